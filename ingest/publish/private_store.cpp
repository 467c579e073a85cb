#include "ingest/publish/private_store.hpp"

#include <memory>
#include <vector>

#include "common/account/account_math.hpp"
#include "common/event_codec.hpp"
#include "common/log.hpp"
#include "common/redis/keys.hpp"
#include "common/redis/lua_scripts.hpp"

namespace tickstream::ingest {

using common::fixed_decimal;
using common::user_channel;
using common::user_data;
using common::user_key;

namespace {

// A fill that keeps meeting a concurrent change (another worker's fill of the same user) is given
// up after this many reads, so that a livelock shows as an error instead of a stall.
constexpr int max_fill_attempts = 8;

struct script_args {
  std::string kind;
  std::string key;
  std::string state;
  std::string expect_position_seq;  // compare-and-set ("": not checked)
  std::string expect_account_seq;
  std::string second;  // a second event's JSON ("": none)
};

bool is_flat(std::string_view quantity) { return quantity.find_first_not_of("0.") == std::string_view::npos; }

// The envelope seq of a stored event's JSON, as the script reads it ("0" when there is none).
std::string seq_of(const std::optional<std::string>& json) {
  if (!json) return "0";
  const auto at = json->find("\"seq\":");
  if (at == std::string::npos) return "0";
  const auto start = at + 6;
  const auto end = json->find_first_not_of("0123456789", start);
  const auto digits = json->substr(start, end - start);
  return digits.empty() ? "0" : digits;
}

// The event's JSON without a seq, split where the script inserts the one it assigns.
std::pair<std::string, std::string> split_for_seq(const common::event& ev) {
  std::string json = common::encode_event(ev);
  const auto at = json.find(",\"timestamp\":");
  return {json.substr(0, at), json.substr(at)};
}

// The de-duplication id of a broker message without an id of its own (t: its time).
template <class T>
std::string dedupe_id_of(const T& e, const std::string& t) {
  if constexpr (std::is_same_v<T, common::order_update>) {
    return "o:" + e.order_id + ":" + e.status + ":" + e.filled_qty.value_or("") + ":" + t;
  } else if constexpr (std::is_same_v<T, common::trade_executed>) {
    return "x:" + e.execution_id;
  } else if constexpr (std::is_same_v<T, common::position_update>) {
    return "p:" + e.symbol + ":" + e.side + ":" + e.quantity + "@" + e.entry_price + ":" + t;
  } else {
    return "a:" + t + ":" + e.equity + ":" + e.cash + ":" + e.buying_power + ":" + e.day_pnl;
  }
}

// Identifies a broker message that has no id of its own, so a second delivery of it is stored once.
std::string implied_dedupe_id(const common::event& ev) {
  return std::visit(
      [](const auto& e) -> std::string {
        using alternative = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<alternative, common::price_update>) {
          return {};
        } else {
          return dedupe_id_of(e, std::to_string(e.header.time_us));
        }
      },
      ev);
}

}  // namespace

bool private_store::is_terminal_status(std::string_view s) noexcept {
  return s == "filled" || s == "canceled" || s == "expired" || s == "rejected" || s == "replaced" ||
         s == "done_for_day" || s == "stopped" || s == "suspended";
}

bool fill_already_reconciled(const common::position_update::fill_info& f,
                             const std::optional<std::string>& reconciled_filled) {
  if (!reconciled_filled || f.order_filled_qty.empty()) return false;
  const auto counted = fixed_decimal::parse(*reconciled_filled);
  const auto mine = fixed_decimal::parse(f.order_filled_qty);
  const auto d = counted && mine ? counted->minus(*mine) : std::nullopt;
  return d && !d->is_negative();
}

common::result<fill_outcome> apply_stored_fill(common::position_update p,
                                               const std::optional<std::string>& stored_position,
                                               const std::optional<std::string>& stored_account) {
  namespace acct = common::account;
  const auto& f = *p.fill;
  const auto fill_qty = fixed_decimal::parse(f.signed_qty);
  const auto fill_price = fixed_decimal::parse(f.price);
  if (!fill_qty || !fill_price) return common::error{"invalid_fill", "the fill's quantity or price is not a number"};
  acct::position before;
  if (stored_position) {
    auto old = common::decode_event(*stored_position);
    const auto* op = old ? std::get_if<common::position_update>(&old.value()) : nullptr;
    const auto q = op ? fixed_decimal::parse(op->quantity) : std::nullopt;
    const auto e = op ? fixed_decimal::parse(op->entry_price) : std::nullopt;
    if (q && e) {
      before.quantity = op->side == "short" ? q->negated() : *q;
      before.entry_price = *e;
      if (op->realized_pnl) before.realized = fixed_decimal::parse(*op->realized_pnl).value_or(fixed_decimal{});
    } else {
      common::log_warn("a stored position does not decode: the fill opens it afresh", {{"symbol", p.symbol}});
    }
  }
  const auto effect = acct::apply_fill(before, {*fill_qty, *fill_price});
  if (!effect) return common::error{"invalid_fill", "the fill overflows the position's arithmetic"};
  // The broker's position quantity after the fill is the truth; ours differs only when a fill was
  // missed (or the position predates the stream), and then the average is the best we know.
  const auto broker_qty = fixed_decimal::parse((p.side == "short" ? "-" : "") + p.quantity);
  const auto difference = broker_qty ? broker_qty->minus(effect->after.quantity) : std::nullopt;
  if (difference && !difference->is_zero()) {
    common::log_warn(
        "the broker's position differs from the stored one after a fill",
        {{"symbol", p.symbol}, {"broker", broker_qty->to_string()}, {"computed", effect->after.quantity.to_string()}});
  }
  p.entry_price = is_flat(p.quantity) ? "0" : effect->after.entry_price.to_string();
  p.realized_pnl = effect->after.realized.to_string(acct::money_places);
  fill_outcome out{std::move(p), std::nullopt};
  if (stored_account) {
    auto old = common::decode_event(*stored_account);
    auto* a = old ? std::get_if<common::account_update>(&old.value()) : nullptr;
    const auto cash = a ? fixed_decimal::parse(a->cash) : std::nullopt;
    const auto moved = cash ? cash->plus(effect->cash_change) : std::nullopt;
    if (!moved) {
      common::log_warn("the stored account does not decode: its cash is not moved by the fill",
                       {{"symbol", out.position.symbol}});
    } else {
      common::account_update next = *a;
      next.header = out.position.header;
      next.header.seq = 0;
      next.header.dedupe_id.clear();
      next.cash = moved->to_string(acct::money_places);
      next.provisional = true;
      out.account = std::move(next);
    }
  }
  return out;
}

namespace {

const common::private_header* header_of(const common::event& ev) {
  return std::visit(
      [](const auto& e) -> const common::private_header* {
        if constexpr (std::is_same_v<std::decay_t<decltype(e)>, common::price_update>) {
          return nullptr;
        } else {
          return &e.header;
        }
      },
      ev);
}

bool is_fill(const common::event& ev) {
  const auto* p = std::get_if<common::position_update>(&ev);
  return p != nullptr && p->fill.has_value();
}

}  // namespace

void private_store::store(common::event ev, done_handler done) {
  const auto* h = header_of(ev);
  if (h == nullptr) {
    if (done) done(common::error{"not_private", "price_update is not a private event"});
    return;
  }
  {
    std::lock_guard lock(mu_);
    const auto it = busy_.find(h->user_id);
    if (it != busy_.end()) {
      it->second.waiting.emplace_back(std::move(ev), std::move(done));
      return;
    }
    if (is_fill(ev)) busy_.try_emplace(h->user_id);
  }
  dispatch(std::move(ev), std::move(done));
}

void private_store::dispatch(common::event ev, done_handler done) {
  if (!is_fill(ev)) return store_plain(std::move(ev), std::move(done));
  auto& p = std::get<common::position_update>(ev);
  if (p.header.dedupe_id.empty()) p.header.dedupe_id = implied_dedupe_id(ev);
  std::string user = p.header.user_id;
  store_fill(
      std::move(p),
      [this, user = std::move(user), done = std::move(done)](common::result<std::int64_t> r) {
        if (done) done(std::move(r));
        fill_done(user);
      },
      1);
}

void private_store::fill_done(const std::string& user) {
  // Runs on the Redis thread: what is dispatched here goes into the pipeline in order.
  std::vector<std::pair<common::event, done_handler>> ready;
  {
    std::lock_guard lock(mu_);
    const auto it = busy_.find(user);
    if (it == busy_.end()) return;
    auto& waiting = it->second.waiting;
    bool next_fill = false;
    while (!waiting.empty() && !next_fill) {
      next_fill = is_fill(waiting.front().first);
      ready.push_back(std::move(waiting.front()));
      waiting.pop_front();
    }
    if (!next_fill) busy_.erase(it);  // nothing in flight for this user any more
  }
  for (auto& [ev, done] : ready) dispatch(std::move(ev), std::move(done));
}

void private_store::store_plain(common::event ev, done_handler done) {
  script_args a;
  std::visit(
      [&](auto& e) {
        using alternative = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<alternative, common::order_update>) {
          a = {"order_update", e.order_id, is_terminal_status(e.status) ? "closed" : "open", {}, {}, {}};
        } else if constexpr (std::is_same_v<alternative, common::trade_executed>) {
          a = {"trade_executed", e.execution_id, "", {}, {}, {}};
        } else if constexpr (std::is_same_v<alternative, common::position_update>) {
          a = {"position_update", e.symbol, is_flat(e.quantity) ? "flat" : "held", {}, {}, {}};
        } else if constexpr (std::is_same_v<alternative, common::account_update>) {
          a = {"account_update", "", "", {}, {}, {}};
        }
      },
      ev);
  std::visit(
      [&](auto& e) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(e)>, common::price_update>) {
          e.header.seq = 0;  // not written: the script inserts the one it assigns
          if (e.header.dedupe_id.empty()) e.header.dedupe_id = implied_dedupe_id(ev);
        }
      },
      ev);
  run_script(ev, a.kind, a.key, a.state, {}, {}, std::nullopt,
             [done = std::move(done)](common::result<std::int64_t> r) {
               if (done) done(std::move(r));
             });
}

void private_store::store_fill(common::position_update p, done_handler done, int attempt) {
  // Read the position and the account the fill moves; compute; write only if neither changed
  // meanwhile (compare-and-set on their seqs), else read again.
  struct reads {
    std::optional<std::string> position;
    std::optional<std::string> reconciled;  // the order's filled quantity a reconciliation counted
    std::optional<common::error> failed;
  };
  auto r = std::make_shared<reads>();
  const std::string user = p.header.user_id;  // a copy: p moves into the last callback
  redis_.command({"HGET", user_key(user, user_data::pos), p.symbol}, [r](common::result<common::redis_reply> reply) {
    if (!reply) {
      r->failed = reply.err();
    } else if (reply->type == common::redis_reply::kind::string) {
      r->position = std::move(reply->str);
    }
  });
  if (!p.fill->order_id.empty()) {
    redis_.command({"HGET", user_key(user, user_data::filled), p.fill->order_id},
                   [r](common::result<common::redis_reply> reply) {
                     if (!reply) {
                       r->failed = reply.err();
                     } else if (reply->type == common::redis_reply::kind::string) {
                       r->reconciled = std::move(reply->str);
                     }
                   });
  }
  redis_.command({"GET", user_key(user, user_data::acct)}, [this, r, p = std::move(p), done = std::move(done), attempt](
                                                               common::result<common::redis_reply> reply) mutable {
    if (!reply) r->failed = reply.err();
    if (r->failed) {
      if (done) done(std::move(*r->failed));
      return;
    }
    if (fill_already_reconciled(*p.fill, r->reconciled)) {
      // The broker's figures stored by a reconciliation hold this fill already.
      common::log_info("a fill already counted by the broker's reconciliation is not applied again",
                       {{"user", p.header.user_id}, {"symbol", p.symbol}, {"order", p.fill->order_id}});
      if (done) done(std::int64_t{0});
      return;
    }
    std::optional<std::string> account;
    if (reply->type == common::redis_reply::kind::string) account = std::move(reply->str);
    auto outcome = apply_stored_fill(p, r->position, account);
    if (!outcome) {
      if (done) done(std::move(outcome).err());
      return;
    }
    auto& pos = outcome->position;
    pos.header.seq = 0;
    const std::string state = is_flat(pos.quantity) ? "flat" : "held";
    const std::string symbol = pos.symbol;
    run_script(pos, "position_update", symbol, state, seq_of(r->position), seq_of(account), outcome->account,
               [this, p = std::move(p), done = std::move(done), attempt](common::result<std::int64_t> res) mutable {
                 if (res && res.value() < 0) {
                   if (attempt < max_fill_attempts) return store_fill(std::move(p), std::move(done), attempt + 1);
                   res = common::error{"conflict", "the position kept changing while a fill was applied"};
                 }
                 if (done) done(std::move(res));
               });
  });
}

void private_store::run_script(const common::event& ev, const std::string& kind, const std::string& key,
                               const std::string& state, std::string expect_position_seq,
                               std::string expect_account_seq, const std::optional<common::account_update>& second,
                               done_handler done) {
  const common::private_header* header = header_of(ev);
  auto [before, after] = split_for_seq(ev);
  std::string second_before, second_after;
  if (second) std::tie(second_before, second_after) = split_for_seq(*second);
  const auto& user = header->user_id;
  redis_.eval(common::lua_scripts::private_store(),
              {user_key(user, user_data::seq), user_key(user, user_data::hist), user_key(user, user_data::pos),
               user_key(user, user_data::acct), user_key(user, user_data::orders), user_key(user, user_data::execs)},
              {kind, std::move(before), std::move(after), key, std::to_string(history_len_), user_channel(user), state,
               std::to_string(header->recv_time_us / 1000), header->dedupe_id, std::move(expect_position_seq),
               std::move(expect_account_seq), std::move(second_before), std::move(second_after)},
              [done = std::move(done)](common::result<common::redis_reply> r) {
                if (!r) return done(std::move(r).err());
                done(r->integer);
              });
}

void private_store::store_app_events(const std::string& user, std::vector<app_event_parts> events, std::int64_t now_ms,
                                     batch_done_handler done) {
  std::vector<std::string> args;
  args.reserve(3 + 3 * events.size());
  args.push_back(std::to_string(history_len_));
  args.push_back(user_channel(user));
  args.push_back(std::to_string(now_ms));
  for (auto& e : events) {
    args.push_back(std::move(e.before));
    args.push_back(std::move(e.after));
    args.push_back(std::move(e.dedupe_id));
  }
  redis_.eval(common::lua_scripts::app_events_store(),
              {user_key(user, user_data::seq), user_key(user, user_data::hist), user_key(user, user_data::execs)}, args,
              [n = events.size(), done = std::move(done)](common::result<common::redis_reply> r) {
                if (!done) return;
                if (!r) return done(std::move(r).err());
                if (r->type != common::redis_reply::kind::array || r->elements.size() != n) {
                  return done(common::error{"bad_reply", "the store script did not answer one seq per event"});
                }
                std::vector<std::int64_t> seqs;
                seqs.reserve(n);
                for (const auto& e : r->elements) seqs.push_back(e.integer);
                done(std::move(seqs));
              });
}

}  // namespace tickstream::ingest
