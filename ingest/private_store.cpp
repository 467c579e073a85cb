#include "ingest/private_store.hpp"

#include "common/event_codec.hpp"

namespace tickstream::ingest {
namespace {

// KEYS: seq hist pos acct orders execs
// ARGV: kind, json before the seq field, json after it, key (symbol / order id / execution id),
//       history length, channel, "open"|"closed"|"flat"|"" (order/position state), now (ms),
//       dedupe id ("" = none; a trade_executed always uses its execution id)
constexpr const char* store_script = R"lua(
local kind = ARGV[1]
if ARGV[9] ~= '' then
  if redis.call('ZADD', KEYS[6], 'NX', ARGV[8], ARGV[9]) == 0 then return 0 end
  redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', tonumber(ARGV[8]) - 604800000)
end
local seq = redis.call('INCR', KEYS[1])
local ev = ARGV[2] .. ',"seq":' .. seq .. ARGV[3]
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], seq .. '-1', 'e', ev)
if kind == 'position_update' then
  if ARGV[7] == 'flat' then redis.call('HDEL', KEYS[3], ARGV[4]) else redis.call('HSET', KEYS[3], ARGV[4], ev) end
elseif kind == 'account_update' then
  redis.call('SET', KEYS[4], ev)
elseif kind == 'order_update' then
  if ARGV[7] == 'closed' then redis.call('HDEL', KEYS[5], ARGV[4]) else redis.call('HSET', KEYS[5], ARGV[4], ev) end
end
redis.call('PUBLISH', ARGV[6], ev)
return seq
)lua";

struct script_args {
  std::string kind;
  std::string key;
  std::string state;
};

}  // namespace

bool private_store::is_terminal_status(std::string_view s) noexcept {
  return s == "filled" || s == "canceled" || s == "expired" || s == "rejected" || s == "replaced" ||
         s == "done_for_day" || s == "stopped" || s == "suspended";
}

std::string private_store::user_channel(std::string_view user_id) {
  return "ts:{u:" + std::string(user_id) + "}";
}

std::string private_store::user_key(std::string_view user_id, std::string_view suffix) {
  return user_channel(user_id) + ":" + std::string(suffix);
}

void private_store::store(common::event ev, done_handler done) {
  common::private_header* header = nullptr;
  script_args a;
  std::visit(
      [&](auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, common::order_update>) {
          a = {"order_update", e.order_id, is_terminal_status(e.status) ? "closed" : "open"};
        } else if constexpr (std::is_same_v<T, common::trade_executed>) {
          a = {"trade_executed", e.execution_id, ""};
          if (e.header.dedupe_id.empty()) e.header.dedupe_id = "x:" + e.execution_id;
        } else if constexpr (std::is_same_v<T, common::position_update>) {
          const bool flat = e.quantity.find_first_not_of("0.") == std::string::npos;
          a = {"position_update", e.symbol, flat ? "flat" : "held"};
        } else if constexpr (std::is_same_v<T, common::account_update>) {
          a = {"account_update", "", ""};
        }
        if constexpr (!std::is_same_v<T, common::price_update>) header = &e.header;
      },
      ev);
  if (header == nullptr) {
    if (done) done(common::error{"not_private", "price_update is not a private event"});
    return;
  }
  // Encoded without a seq (0 is not written): the script inserts the one it assigns.
  header->seq = 0;
  std::string json = common::encode_event(ev);
  const auto at = json.find(",\"timestamp\":");
  const auto& user = header->user_id;
  redis_.command(
      {"EVAL", store_script, "6", user_key(user, "seq"), user_key(user, "hist"), user_key(user, "pos"),
       user_key(user, "acct"), user_key(user, "orders"), user_key(user, "execs"), a.kind, json.substr(0, at),
       json.substr(at), a.key, std::to_string(history_len_), user_channel(user), a.state,
       std::to_string(header->recv_time_us / 1000), header->dedupe_id},
      [done = std::move(done)](common::result<common::redis_reply> r) {
        if (!done) return;
        if (!r) return done(std::move(r).err());
        done(r->integer);
      });
}

}  // namespace tickstream::ingest
