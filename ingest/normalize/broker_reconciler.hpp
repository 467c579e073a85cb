#pragma once
// Reconciliation with the broker's REST API (Alpaca Trading API: GET /v2/account,
// GET /v2/positions and GET /v2/orders; the Broker API serves the same shapes per account): what the broker says the
// account and positions are, against what is stored in Redis, and the ordinary private events
// (`"source":"reconcile"`) that bring the stored state to the broker's. Pure: response bodies and
// stored JSON in, events out; the shell that fetches and publishes them is elsewhere.
//
// The broker wins: its account replaces a provisional one or one whose cash, last equity or
// multiplier differs (equity and buying power move with prices, and edges value them live); a position it
// holds that is not stored (one that predates the stream, or a fill that was missed) or stored
// differently (quantity, side, average entry price) is stored as the broker has it, average entry
// price included; a stored position the broker no longer holds is closed (quantity 0). A stored
// position's realized P&L is kept (the broker does not report it per position).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/event.hpp"
#include "common/result.hpp"

namespace tickstream::ingest {

inline constexpr std::string_view reconcile_source = "reconcile";

// GET /v2/account: {"cash","equity","buying_power","last_equity","portfolio_value","multiplier",...}
// as decimal strings. dayPnl = equity − last_equity, dayPnlPercent from it. Errors:
// "invalid_broker_reply" naming the field.
common::result<common::account_update> parse_broker_account(std::string_view body, const std::string& user_id,
                                                            std::int64_t now_us);
// GET /v2/positions: [{"symbol","qty","side","avg_entry_price",...}] (qty negative or side "short"
// for a short).
common::result<std::vector<common::position_update>> parse_broker_positions(std::string_view body,
                                                                            const std::string& user_id,
                                                                            std::int64_t now_us);

// GET /v2/orders: [{"id","client_order_id","symbol","side","type","status","qty","filled_qty",
// "filled_avg_price","submitted_at","filled_at",...}] as order updates (source reconcile).
common::result<std::vector<common::order_update>> parse_broker_orders(std::string_view body, const std::string& user_id,
                                                                      std::int64_t now_us);

// What the orders read on either side of the account and positions say about that snapshot.
// before: the latest orders (status=all) read before the account; after: the open orders
// (status=open) read after the positions. Consistent when no order filled further or closed in
// between: then the snapshot holds exactly the fills up to each order's filled quantity, and
// `filled` (broker order id -> filled quantity, orders with a fill only) says which fills the
// stored account and positions will count once they are the broker's.
struct order_reads {
  bool consistent = true;
  std::map<std::string, std::string> filled;
};
order_reads compare_order_reads(const std::vector<common::order_update>& before,
                                const std::vector<common::order_update>& after);

// The order events that bring the stored open orders (the values of ts:{u:<id>}:orders) to the
// broker's open orders: one missing or different (status, filled quantity) is stored as the
// broker has it; a stored open order the broker no longer lists as open is stored in its final
// state when `recent` (the latest orders) has it, and left as it is otherwise (logged by the
// caller: older than the orders read).
struct order_diff {
  std::vector<common::event> events;
  std::vector<std::string> unknown;  // stored open orders the broker's replies do not show
};
order_diff reconcile_orders(const std::vector<std::string>& stored_open,
                            const std::vector<common::order_update>& broker_open,
                            const std::vector<common::order_update>& recent);

// The events to store, positions first (by symbol), then the account if it differs.
// stored_positions are the values of ts:{u:<id>}:pos; undecodable stored entries count as absent.
std::vector<common::event> reconcile(const std::optional<std::string>& stored_account,
                                     const std::vector<std::string>& stored_positions,
                                     const common::account_update& broker_account,
                                     const std::vector<common::position_update>& broker_positions);

}  // namespace tickstream::ingest
