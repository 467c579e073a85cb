#pragma once
// Keeps one broker account's stored state in line with the broker's REST API: at start, on
// trigger() (after the account's trading stream, or the Broker API's event stream, reconnects)
// and every interval, reads GET <prefix>/orders?status=all (the latest 500), <prefix>/account,
// <prefix>/positions and <prefix>/orders?status=open, in that order, reads the stored account,
// positions and open orders from Redis, and publishes the differences
// (ingest/normalize/broker_reconciler.hpp) as ordinary private events. The prefix and the
// credentials say which API: the Trading API's /v2 with Alpaca's headers APCA-API-KEY-ID and
// APCA-API-SECRET-KEY (trading_api_options), or the Broker API's
// /v1/trading/accounts/<account id> with the broker's HTTP Basic credentials (broker_api_options);
// both serve the same shapes.
// A fill the stream never delivered therefore shows within one interval, a position that predates
// the stream gets the broker's average price, and open orders converge.
//
// The broker's figures and the stream race: a fill the broker's account already holds may reach
// the stream after the reconciliation stored that account. The orders read on either side of the
// snapshot say which fills it holds (each order's filled quantity; an order that filled further
// in between makes the cycle read again a second later); they are written to
// ts:{u:<id>}:filled before the corrections, and a stream fill of an order filled that far is not
// applied to cash and position again (ingest/publish/private_store.hpp).
//
// The periodic cycles of an account start at a phase within the interval taken from its user id,
// so that many accounts started together spread their requests over the interval.
//
// Threading: runs on the io_context given (the one the account's trading stream runs on); the
// Redis reply is posted back to it. One cycle at a time per account; a failed cycle is logged
// (never with the credentials) and the next interval tries again.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/event.hpp"
#include "common/redis/redis_client.hpp"

namespace boost::asio {
class io_context;
}

namespace tickstream::ingest {

class account_reconciler {
 public:
  struct options {
    std::string rest_url;             // e.g. https://paper-api.alpaca.markets (no trailing slash)
    std::string path_prefix = "/v2";  // before /account, /positions and /orders
    std::vector<std::pair<std::string, std::string>> headers;  // the credentials (never logged)
    std::string user_id;
    std::chrono::milliseconds interval{std::chrono::seconds(60)};
    std::chrono::milliseconds timeout{std::chrono::seconds(10)};  // per request
  };
  using publish_fn = std::function<void(const common::event&)>;

  account_reconciler(boost::asio::io_context& ioc, options o, common::redis_client& redis, publish_fn publish);
  ~account_reconciler();
  account_reconciler(const account_reconciler&) = delete;
  account_reconciler& operator=(const account_reconciler&) = delete;

  void start();    // a cycle now, then every interval (the first after the account's phase)
  void trigger();  // a cycle now, unless one is running
  void stop();     // no further cycle; one in flight finishes without publishing

  std::uint64_t cycles() const noexcept;  // completed cycles (for tests and logs)

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

// A Trading API account: <rest_url>/v2/..., its own key and secret in Alpaca's headers.
account_reconciler::options trading_api_options(const std::string& rest_url, const std::string& key,
                                                const std::string& secret, const std::string& user_id);
// A Broker API customer account: <rest_url>/v1/trading/accounts/<account_id>/..., the broker's
// key and secret as HTTP Basic.
account_reconciler::options broker_api_options(const std::string& rest_url, const std::string& account_id,
                                               const std::string& key, const std::string& secret,
                                               const std::string& user_id);

}  // namespace tickstream::ingest
