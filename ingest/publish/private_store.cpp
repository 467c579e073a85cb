#include "ingest/publish/private_store.hpp"

#include "common/event_codec.hpp"
#include "common/redis/keys.hpp"
#include "common/redis/lua_scripts.hpp"

namespace tickstream::ingest {

using common::user_channel;
using common::user_data;
using common::user_key;

namespace {

struct script_args {
  std::string kind;
  std::string key;
  std::string state;
  std::string fill_qty;    // signed; positions moved by a fill only
  std::string fill_price;
  std::string position;    // signed quantity after the fill
};

}  // namespace

bool private_store::is_terminal_status(std::string_view s) noexcept {
  return s == "filled" || s == "canceled" || s == "expired" || s == "rejected" || s == "replaced" ||
         s == "done_for_day" || s == "stopped" || s == "suspended";
}

void private_store::store(common::event ev, done_handler done) {
  common::private_header* header = nullptr;
  script_args a;
  std::visit(
      [&](auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, common::order_update>) {
          a = {"order_update", e.order_id, is_terminal_status(e.status) ? "closed" : "open", {}, {}, {}};
        } else if constexpr (std::is_same_v<T, common::trade_executed>) {
          a = {"trade_executed", e.execution_id, "", {}, {}, {}};
          if (e.header.dedupe_id.empty()) e.header.dedupe_id = "x:" + e.execution_id;
        } else if constexpr (std::is_same_v<T, common::position_update>) {
          const bool flat = e.quantity.find_first_not_of("0.") == std::string::npos;
          a = {"position_update", e.symbol, flat ? "flat" : "held", {}, {}, {}};
          if (e.fill && !flat) {
            a.fill_qty = e.fill->signed_qty;
            a.fill_price = e.fill->price;
            a.position = (e.side == "short" ? "-" : "") + e.quantity;
            e.entry_price = "@ENTRY@";  // the script puts the average entry price here
          }
        } else if constexpr (std::is_same_v<T, common::account_update>) {
          a = {"account_update", "", "", {}, {}, {}};
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
  redis_.eval(
      common::lua_scripts::private_store(),
      {user_key(user, user_data::seq), user_key(user, user_data::hist), user_key(user, user_data::pos),
       user_key(user, user_data::acct), user_key(user, user_data::orders), user_key(user, user_data::execs)},
      {a.kind, json.substr(0, at), json.substr(at), a.key, std::to_string(history_len_), user_channel(user), a.state,
       std::to_string(header->recv_time_us / 1000), header->dedupe_id, a.fill_qty, a.fill_price, a.position},
      [done = std::move(done)](common::result<common::redis_reply> r) {
        if (!done) return;
        if (!r) return done(std::move(r).err());
        done(r->integer);
      });
}

}  // namespace tickstream::ingest
