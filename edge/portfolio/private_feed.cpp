#include "edge/portfolio/private_feed.hpp"

#include <algorithm>
#include <cassert>

#include "common/event_codec.hpp"
#include "common/log.hpp"
#include "edge/portfolio/private_frame.hpp"
#include "edge/portfolio/state_view.hpp"
#include "edge/protocol/client_protocol.hpp"

namespace tickstream::edge {
namespace {

// Live events held while the state is read; beyond this they are dropped and read back from the
// history afterwards (a user's event rate over one Redis round trip stays far below it).
constexpr std::size_t max_held_events = 10'000;
// A failed read is retried after this long (Redis is reconnecting meanwhile).
constexpr auto retry_delay = std::chrono::seconds(1);
// Sources remembered per connection (one broker stream and a webhook, typically).
constexpr std::size_t max_sources = 8;

}  // namespace

private_feed::private_feed(host& h, context ctx, std::string user_id)
    : host_(h), ctx_(std::move(ctx)), user_id_(std::move(user_id)) {}

std::uint64_t private_feed::hold(std::uint8_t bits) {
  order o;
  o.ticket = next_ticket_++;
  o.old_bits = bits_;
  o.snap_bits = bits;
  bits_ |= bits;
  orders_.push_back(std::move(o));
  return orders_.back().ticket;
}

void private_feed::sync(std::uint64_t ticket, std::optional<std::int64_t> since, std::vector<std::string> symbols,
                        bool snapshot) {
  const auto it = std::find_if(orders_.begin(), orders_.end(), [ticket](const order& o) { return o.ticket == ticket; });
  if (it == orders_.end()) return;  // every channel was dropped meanwhile
  it->ready = true;
  it->since = since;
  it->symbols = std::move(symbols);
  it->snapshot = snapshot;
  start_next();
}

std::uint8_t private_feed::drop(std::uint8_t bits) {
  bits_ &= static_cast<std::uint8_t>(~bits);
  if (bits_ == 0) {
    ++epoch_;
    orders_.clear();
    in_flight_ = retry_ = recheck_ = held_overflow_ = false;
    held_.clear();
    last_seq_ = -1;
    pending_account_mark_.reset();
  }
  if (!tracks_portfolio()) portfolio_ = {};
  sync_follows();
  return bits_;
}

void private_feed::gap_check() {
  // While syncing, the read in progress (or the one waiting for its confirmation) reads from the
  // last delivered seq anyway, and what it does not cover is checked again when it completes.
  if (syncing()) return;
  order o;
  o.ready = true;
  o.old_bits = bits_;
  orders_.push_back(std::move(o));
  start_next();
}

void private_feed::on_resubscribed() {
  if (bits_ == 0 || last_seq_ < 0) return;
  if (in_flight_) {
    recheck_ = true;  // the read may predate the reconnect
  } else {
    gap_check();
  }
}

void private_feed::tick(clock::time_point now) {
  flush_account_mark();
  if (retry_ && !in_flight_ && now >= retry_at_) {
    retry_ = false;
    start_next();
  }
}

void private_feed::start_next() {
  if (in_flight_ || retry_ || orders_.empty() || !orders_.front().ready) return;
  const auto& o = orders_.front();
  state_request req;
  req.user_id = user_id_;
  req.after = last_seq_ >= 0 ? last_seq_ : o.since.value_or(-1);
  // Everything held is read: a resync answers with a snapshot of all of it.
  req.positions = tracks_portfolio();
  req.orders = (bits_ & channel_bits::orders) != 0;
  req.account = (bits_ & channel_bits::account) != 0;
  req.symbols = o.symbols;
  in_flight_ = true;
  ctx_.read(std::move(req), [post = host_.feed_poster(), this, epoch = epoch_](common::result<private_state> r) {
    // On the reader's thread (Redis): hand the result to the session's thread.
    post([this, epoch, r = std::move(r)]() mutable { on_state(epoch, std::move(r)); });
  });
}

void private_feed::on_state(std::uint64_t epoch, common::result<private_state> r) {
  if (epoch != epoch_) return;  // every channel was dropped since the read started
  in_flight_ = false;
  if (!r) {
    common::log_warn("could not read the user's private state; retrying",
                     {{"user", user_id_}, {"code", r.err().code}, {"reason", r.err().message}});
    ctx_.metrics.private_stream("read_failed");
    retry_ = true;
    retry_at_ = ctx_.now() + retry_delay;
    return;
  }
  const order o = std::move(orders_.front());
  orders_.pop_front();
  apply_state(o, r.value());
  if (std::exchange(recheck_, false)) gap_check();
  if (!syncing()) {
    // Held live events: those at or below the state's seq are duplicates now.
    auto held = std::exchange(held_, {});
    for (const auto& f : held) on_event(f);
    if (std::exchange(held_overflow_, false)) gap_check();
  }
  start_next();
}

void private_feed::apply_state(const order& o, private_state& st) {
  const bool resume = last_seq_ < 0 && o.since.has_value();
  const std::int64_t after = last_seq_ >= 0 ? last_seq_ : o.since.value_or(-1);

  // The state as of st.seq, for P&L and for a snapshot.
  auto state = decode_state(st, user_id_);
  if (state.invalid > 0) {
    ctx_.metrics.upstream_invalid("bad_stored_state");
    common::log_warn("skipping stored private state that does not decode",
                     {{"user", user_id_}, {"entries", state.invalid}, {"seq", st.seq}});
  }
  for (const auto& source : state.sources) note_source(source);
  const auto reset_portfolio = [&] {
    if (!tracks_portfolio()) return;
    portfolio_.reset(std::move(state.positions), std::move(state.account));
    set_prices(portfolio_, st);
    sync_follows();
  };

  bool resync = after >= 0 && !st.history_complete;
  const char* resync_reason = after > st.seq ? "sequence_reset" : "history_truncated";
  std::vector<frame_ptr> missed;
  if (after >= 0 && !resync) {
    // The missed events, each the next seq; one that does not decode (or is out of order) cannot
    // be replayed, and skipping it would be a gap the client resumes over again: resync instead.
    missed.reserve(st.history.size());
    for (const auto& json : st.history) {
      auto d = decode_private_frame(json, user_id_);
      const auto expected = after + 1 + static_cast<std::int64_t>(missed.size());
      if (!d || d.value()->seq != expected) {
        ctx_.metrics.upstream_invalid("bad_history_entry");
        common::log_warn(
            "a stored event cannot be replayed; resyncing",
            {{"user", user_id_}, {"seq", expected}, {"reason", d ? std::string("out of order") : d.err().message}});
        resync = true;
        resync_reason = "history_unreadable";
        break;
      }
      missed.push_back(std::move(d).value());
    }
  }
  if (after >= 0 && !resync) {
    // The missed events, in order, through the same path as live ones.
    const std::uint8_t filter = resume ? bits_ : o.old_bits;
    last_seq_ = after;
    // On a resume the portfolio is not loaded yet: the missed events go out as stored, and marks
    // for every position follow once it is.
    raw_replay_ = resume;
    for (const auto& f : missed) {
      deliver(f, filter);
      ctx_.metrics.private_stream("replayed");
    }
    raw_replay_ = false;
  }
  last_seq_ = st.seq;
  reset_portfolio();

  if (!o.symbols.empty() && o.snapshot) host_.feed_filter_prices(st.prices);
  std::vector<std::string> prices;
  for (auto& [symbol, tick] : st.prices) {
    if (std::find(o.symbols.begin(), o.symbols.end(), symbol) != o.symbols.end()) prices.push_back(std::move(tick));
  }
  const auto render = [&](std::string_view type, std::string_view reason, std::uint8_t sections) {
    std::vector<std::string> pos;
    std::vector<std::string> ord;
    std::optional<std::string> acct;
    if ((sections & channel_bits::positions) != 0) pos = encode_positions(portfolio_);
    if ((sections & channel_bits::orders) != 0) ord = std::move(state.orders);
    if ((sections & channel_bits::account) != 0) acct = encode_account(portfolio_);
    snapshot_parts parts;
    parts.type = type;
    parts.reason = reason;
    parts.seq = last_seq_;
    if ((sections & channel_bits::positions) != 0) parts.positions = &pos;
    if ((sections & channel_bits::orders) != 0) parts.orders = &ord;
    parts.with_account = (sections & channel_bits::account) != 0;
    parts.account = acct ? &*acct : nullptr;
    if (!o.symbols.empty()) parts.prices = &prices;
    host_.feed_reply(render_snapshot(parts));
  };

  if (resync) {
    const char* reason = resync_reason;
    ctx_.metrics.private_stream(std::string("resync_") + reason);
    common::log_info("private stream resync",
                     {{"user", user_id_}, {"reason", reason}, {"after", after}, {"seq", st.seq}});
    render("resync", reason, bits_);
    return;
  }
  if (o.snap_bits != 0 && o.snapshot && !resume) {
    ctx_.metrics.private_stream("snapshot");
    render("snapshot", {}, o.snap_bits);
  } else if (resume) {
    if (o.snapshot && !o.symbols.empty()) {
      snapshot_parts parts;
      parts.prices = &prices;
      host_.feed_reply(render_snapshot(parts));
    }
    // The client's cached P&L is as old as its connection: bring every position up to date.
    for (const auto& symbol : portfolio_.symbols()) deliver_marks(symbol, std::nullopt);
  }
}

void private_feed::on_event(const frame_ptr& f) {
  if (bits_ == 0) return;
  if (syncing()) {
    if (held_.size() < max_held_events && !held_overflow_) {
      held_.push_back(f);
    } else {
      held_.clear();  // read back from the history once the sync completes
      held_overflow_ = true;
    }
    return;
  }
  if (f->seq <= last_seq_) {
    ctx_.metrics.private_stream("duplicate");
    return;
  }
  if (f->seq > last_seq_ + 1) {
    ctx_.metrics.private_stream("gap");
    common::log_info("gap in a user's private stream; filling it from the history",
                     {{"user", user_id_}, {"last_seq", last_seq_}, {"seq", f->seq}});
    gap_check();
    held_.push_back(f);
    return;
  }
  deliver(f, bits_);
}

void private_feed::flush_account_mark() {
  if (!pending_account_mark_) return;
  auto a = std::move(*pending_account_mark_);
  pending_account_mark_.reset();
  host_.feed_deliver(encode_private_frame(a, true));
}

void private_feed::deliver(const frame_ptr& f, std::uint8_t filter) {
  // The account a fill moved is stored right after its position: it is delivered valued, so the
  // mark held back from the position would only show the old cash with the new position.
  if (f->kind == frame_kind::account) {
    pending_account_mark_.reset();
  } else {
    flush_account_mark();
  }
  last_seq_ = f->seq;
  note_source(f->source);
  const bool stateful = f->kind == frame_kind::position || f->kind == frame_kind::account;
  if (!stateful || !tracks_portfolio() || raw_replay_) {
    if ((filter & channel_bit_of(f->kind)) != 0) host_.feed_deliver(f);
    return;
  }
  // Every stored event's frame carries its decoded event (decode_private_frame).
  assert(f->event != nullptr);
  const common::event* decoded = f->event.get();
  portfolio_.apply(*decoded);
  sync_follows();
  if (const auto* p = std::get_if<common::position_update>(decoded)) {
    if ((filter & channel_bits::positions) != 0) {
      // Marked to market at the latest price when one is known: one complete object per seq.
      auto marked = portfolio_.price_of(p->symbol) != nullptr ? portfolio_.marked_position(p->symbol) : std::nullopt;
      host_.feed_deliver(marked ? encode_private_frame(*marked, false) : f);
    }
    // The account's equity moves with the position (once every position has a price); the mark
    // says the fill caused it. It is held back until the next event: when that is the account the
    // fill moved (ingest stores it right after the position), the account itself goes instead.
    if ((bits_ & channel_bits::account) != 0 && portfolio_.has_account()) {
      auto a = portfolio_.marked_account();
      if (a->equity != portfolio_.account()->equity) {
        a->header.seq = 0;
        a->header.time_us = p->header.time_us;
        a->header.recv_time_us = p->header.recv_time_us;
        a->header.source = p->header.source;
        pending_account_mark_ = std::move(*a);
      }
    }
    // A symbol held for the first time is marked from its last tick at once, not at its next one.
    if (portfolio_.holds(p->symbol) && portfolio_.price_of(p->symbol) == nullptr) read_last_tick(p->symbol);
  } else if ((filter & channel_bits::account) != 0) {
    host_.feed_deliver(encode_private_frame(*portfolio_.marked_account(), false));
  }
}

void private_feed::read_last_tick(const std::string& symbol) {
  state_request req;
  req.symbols = {symbol};  // no user: the last tick only
  ctx_.read(std::move(req), [post = host_.feed_poster(), this, epoch = epoch_](common::result<private_state> r) {
    post([this, epoch, r = std::move(r)] {
      if (epoch != epoch_ || !r) return;  // dropped meanwhile, or Redis failed: the next tick marks it
      for (const auto& [held, json] : r->prices) {
        auto d = common::decode_event(json);
        const auto* tick = d ? std::get_if<common::price_update>(&d.value()) : nullptr;
        // A tick that arrived meanwhile is newer than the stored one.
        if (tick == nullptr || !follows(held) || portfolio_.price_of(held) != nullptr) continue;
        portfolio_.set_price(held, tick->price);
        deliver_marks(held, mark_label{tick->source_time_us, tick->recv_time_us, tick->source});
      }
    });
  });
}

void private_feed::on_tick(const frame& tick) {
  if (!portfolio_.set_price(tick.key, tick.price)) return;
  pending_account_mark_.reset();  // the tick's account mark is newer
  deliver_marks(tick.key, mark_label{tick.time_us, tick.recv_time_us, tick.source});
}

void private_feed::deliver_marks(std::string_view symbol, const std::optional<mark_label>& label) {
  const auto stamp = [&label](common::private_header& h) {
    h.seq = 0;  // a mark is not a stored event
    if (!label) return;
    h.time_us = label->time_us;
    h.recv_time_us = label->recv_time_us;
    h.source = label->source;
  };
  if ((bits_ & channel_bits::positions) != 0) {
    if (auto p = portfolio_.marked_position(symbol); p && p->current_price) {
      stamp(p->header);
      host_.feed_deliver(encode_private_frame(*p, true));
    }
  }
  if ((bits_ & channel_bits::account) != 0) {
    if (auto a = portfolio_.marked_account()) {
      stamp(a->header);
      host_.feed_deliver(encode_private_frame(*a, true));
    }
  }
}

void private_feed::sync_follows() {
  auto wanted = tracks_portfolio() ? portfolio_.symbols() : std::vector<std::string>{};
  for (const auto& s : followed_) {
    if (std::find(wanted.begin(), wanted.end(), s) == wanted.end()) host_.feed_follow(s, false);
  }
  for (const auto& s : wanted) {
    if (std::find(followed_.begin(), followed_.end(), s) == followed_.end()) host_.feed_follow(s, true);
  }
  followed_ = std::move(wanted);
}

bool private_feed::depends_on(std::string_view source) const {
  return std::find(sources_.begin(), sources_.end(), source) != sources_.end();
}

void private_feed::note_source(const std::string& source) {
  if (source.empty() || depends_on(source) || sources_.size() >= max_sources) return;
  sources_.push_back(source);
}

}  // namespace tickstream::edge
