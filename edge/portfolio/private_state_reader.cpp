#include "edge/portfolio/private_state_reader.hpp"

#include <memory>
#include <unordered_set>

#include "common/json_reader.hpp"
#include "common/redis/keys.hpp"
#include "common/redis/lua_scripts.hpp"

namespace tickstream::edge {
namespace {

std::vector<std::string> strings_of(const common::redis_reply& r) {
  std::vector<std::string> out;
  out.reserve(r.elements.size());
  for (const auto& e : r.elements) out.push_back(e.str);
  return out;
}

// The "symbol" of a stored position (cheap: the edge decodes the events fully later).
std::optional<std::string> position_symbol(const std::string& json) {
  rapidjson::Document doc;
  if (common::parse_json(doc, json) || !doc.IsObject()) return std::nullopt;
  const auto data = doc.FindMember("data");
  if (data == doc.MemberEnd() || !data->value.IsObject()) return std::nullopt;
  const auto sym = data->value.FindMember("symbol");
  if (sym == data->value.MemberEnd() || !sym->value.IsString()) return std::nullopt;
  return std::string(sym->value.GetString(), sym->value.GetStringLength());
}

void read_prices(common::redis_client& redis, const std::shared_ptr<private_state>& st,
                 const std::vector<std::string>& symbols, std::function<void(common::result<private_state>)> done) {
  if (symbols.empty()) return done(std::move(*st));
  // One GET per symbol, pipelined (symbols live in different cluster slots, so no MGET).
  auto remaining = std::make_shared<std::size_t>(symbols.size());
  auto failed = std::make_shared<std::optional<common::error>>();
  auto shared_done = std::make_shared<std::function<void(common::result<private_state>)>>(std::move(done));
  for (const auto& sym : symbols) {
    redis.command({"GET", common::market_last_key(sym)},
                  [st, sym, remaining, failed, shared_done](common::result<common::redis_reply> r) {
                    if (!r) {
                      if (!*failed) *failed = r.err();
                    } else if (r->type == common::redis_reply::kind::string) {
                      st->prices.emplace_back(sym, std::move(r->str));
                    }
                    if (--*remaining != 0) return;
                    if (*failed) return (*shared_done)(std::move(**failed));
                    (*shared_done)(std::move(*st));
                  });
  }
}

// The state script's reply (common/redis/scripts/private_state_read.lua), then the last ticks.
void on_state_reply(common::redis_client& redis, state_request req,
                    std::function<void(common::result<private_state>)> done, common::result<common::redis_reply> r) {
  if (!r) return done(std::move(r).err());
  const auto& v = r.value();
  using kind = common::redis_reply::kind;
  if (v.type != kind::array || v.elements.size() != 6 || v.elements[0].type != kind::integer ||
      v.elements[2].type != kind::array || v.elements[3].type != kind::array || v.elements[4].type != kind::array) {
    return done(common::error{"bad_reply", "unexpected reply to the private state script"});
  }
  auto st = std::make_shared<private_state>();
  st->seq = v.elements[0].integer;
  st->history_complete = v.elements[1].integer == 1;
  st->history = strings_of(v.elements[2]);
  st->positions = strings_of(v.elements[3]);
  st->orders = strings_of(v.elements[4]);
  if (v.elements[5].type == kind::string) st->account = v.elements[5].str;
  // Prices for P&L: every held position's symbol, besides the ones asked for.
  std::unordered_set<std::string> seen(req.symbols.begin(), req.symbols.end());
  auto symbols = std::move(req.symbols);
  for (const auto& p : st->positions) {
    if (auto sym = position_symbol(p); sym && seen.insert(*sym).second) symbols.push_back(std::move(*sym));
  }
  read_prices(redis, st, symbols, std::move(done));
}

}  // namespace

void read_private_state(common::redis_client& redis, state_request req,
                        std::function<void(common::result<private_state>)> done) {
  if (req.user_id.empty()) {
    return read_prices(redis, std::make_shared<private_state>(), req.symbols, std::move(done));
  }
  using common::user_data;
  const auto& u = req.user_id;
  std::vector<std::string> keys{common::user_key(u, user_data::seq), common::user_key(u, user_data::hist),
                                common::user_key(u, user_data::pos), common::user_key(u, user_data::orders),
                                common::user_key(u, user_data::acct)};
  std::vector<std::string> args{std::to_string(req.after), req.positions ? "1" : "0", req.orders ? "1" : "0",
                                req.account ? "1" : "0", std::to_string(req.max_history)};
  redis.eval(common::lua_scripts::private_state_read(), keys, args,
             [&redis, req = std::move(req), done = std::move(done)](common::result<common::redis_reply> r) mutable {
               on_state_reply(redis, std::move(req), std::move(done), std::move(r));
             });
}

}  // namespace tickstream::edge
