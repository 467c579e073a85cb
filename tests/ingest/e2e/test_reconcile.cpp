// Reconciliation with the broker's REST API end to end: a real ingest and redis-server, the broker
// a fake trading stream (that drops a fill) and a fake REST API on loopback serving Alpaca's
// documented response shapes.
#include <catch2/catch.hpp>

#include <signal.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/event_codec.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/fake_upstream.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_file.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::wait_until;
namespace http = boost::beast::http;

namespace {

// A fake broker REST API: answers GET <path> with the body set for it (404 otherwise), one request
// per connection, and refuses requests without the expected key.
class fake_rest {
 public:
  // h: called with each request's target before it is answered (on the server's thread); a body
  // it returns is the answer instead of the one set for the path.
  using hook = std::function<std::optional<std::string>(const std::string& target)>;
  explicit fake_rest(std::string key, hook h = {})
      : key_(std::move(key)), hook_(std::move(h)), acceptor_(ioc_, {test::net::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] {
      while (!stop_) {
        test::tcp::socket sock(ioc_);
        boost::system::error_code ec;
        acceptor_.accept(sock, ec);
        if (ec || stop_) return;
        boost::beast::flat_buffer buf;
        http::request<http::string_body> req;
        http::read(sock, buf, req, ec);
        if (ec) continue;
        http::response<http::string_body> res;
        res.version(11);
        const auto reply = hook_ ? hook_(std::string(req.target())) : std::nullopt;
        {
          std::lock_guard lock(mu_);
          ++requests_;
          const auto it = bodies_.find(std::string(req.target()));
          if (req["APCA-API-KEY-ID"] != key_ || req["APCA-API-SECRET-KEY"].empty()) {
            res.result(http::status::unauthorized);
            res.body() = R"({"code":40110000,"message":"request is not authorized"})";
          } else if (reply) {
            res.result(http::status::ok);
            res.body() = *reply;
          } else if (it == bodies_.end()) {
            res.result(http::status::not_found);
          } else {
            res.result(http::status::ok);
            res.body() = it->second;
          }
        }
        res.set(http::field::content_type, "application/json");
        res.prepare_payload();
        http::write(sock, res, ec);
      }
    });
  }
  ~fake_rest() {
    stop_ = true;
    boost::system::error_code ec;
    test::tcp::socket poke(ioc_);
    poke.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }
  void set(const std::string& path, std::string body) {
    std::lock_guard lock(mu_);
    bodies_[path] = std::move(body);
  }
  int requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  std::string key_;
  hook hook_;
  test::net::io_context ioc_;
  test::tcp::acceptor acceptor_;
  std::mutex mu_;
  std::map<std::string, std::string> bodies_;
  int requests_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The order lists the reconciliation reads before and after the account and positions.
const std::string all_orders = "/v2/orders?status=all&limit=500&direction=desc";
const std::string open_orders = "/v2/orders?status=open&limit=500";

// An order as GET /v2/orders documents it.
std::string rest_order(const std::string& status, const std::string& filled, const std::string& avg,
                       const std::string& id = "7") {
  return R"({"id":"b-)" + id + R"(","client_order_id":"o-)" + id +
         R"(","created_at":"2026-11-23T14:29:59.9Z","updated_at":"2026-11-23T14:30:02Z",)"
         R"("submitted_at":"2026-11-23T14:30:00Z","filled_at":)" +
         (status == "filled" ? std::string(R"("2026-11-23T14:30:02Z")") : std::string("null")) +
         R"(,"asset_class":"us_equity","symbol":"AAPL","qty":"10","filled_qty":")" + filled +
         R"(","filled_avg_price":)" + (avg.empty() ? std::string("null") : "\"" + avg + "\"") +
         R"(,"order_class":"","order_type":"limit","type":"limit","side":"buy","time_in_force":"day",)"
         R"("limit_price":"190","status":")" +
         status + R"("})";
}

std::string alpaca_order(const std::string& status, const std::string& filled) {
  return R"({"id":"b-7","client_order_id":"o-7","symbol":"AAPL","side":"buy","order_type":"limit","type":"limit",)"
         R"("status":")" +
         status + R"(","qty":"10","filled_qty":")" + filled + R"(","submitted_at":"2026-11-23T14:30:00Z"})";
}

}  // namespace

TEST_CASE("a fill the trading stream never delivered appears through reconciliation within one interval",
          "[reconcile]") {
  test::redis_server redis;
  std::atomic<bool> finished{false};
  // The broker filled 10 AAPL in two parts (4 @ 189.25, 6 @ 189.50) but its stream loses the
  // second: only the partial fill is sent.
  test::fake_upstream stream([&](test::upstream_connection& ws, int) {
    ws.read_text();
    ws.text(true);
    ws.write(R"({"stream":"authorization","data":{"status":"authorized"}})");
    ws.read_text();
    ws.write(R"({"stream":"listening","data":{"streams":["trade_updates"]}})");
    ws.write(R"({"stream":"trade_updates","data":{"event":"partial_fill","execution_id":"x-1","order":)" +
             alpaca_order("partially_filled", "4") +
             R"(,"position_qty":"4","price":"189.25","qty":"4","timestamp":"2026-11-23T14:30:01Z"}})");
    while (!finished) std::this_thread::sleep_for(10ms);
  });
  // Its REST API knows both: cash 100000 − 757.00 − 1137.00 = 98106.00; 10 @ 189.4.
  fake_rest rest("PK-trader");
  rest.set("/v2/account", R"({"id":"904837e3","status":"ACTIVE","currency":"USD","cash":"98106.00",)"
                          R"("portfolio_value":"100000","equity":"100000","last_equity":"100000",)"
                          R"("buying_power":"198106","multiplier":"2"})");
  rest.set("/v2/positions", R"([{"symbol":"AAPL","qty":"10","side":"long","avg_entry_price":"189.4",)"
                            R"("market_value":"1894","cost_basis":"1894"}])");
  rest.set(all_orders, "[" + rest_order("filled", "10", "189.4") + "]");
  rest.set(open_orders, "[]");
  struct finish {
    std::atomic<bool>& f;
    ~finish() { f = true; }
  } stop_upstream{finished};
  const test::temp_file log("tickstream-reconcile-log");
  test::child_process ingest({TICKSTREAM_INGEST_BIN, "--alpaca-trading-url", stream.url("/stream"), "--alpaca-key",
                              "PK-trader", "--alpaca-secret", "sk", "--trading-user", "trader", "--broker-rest-url",
                              rest.url(), "--reconcile-interval", "1", "--redis-port", std::to_string(redis.port())},
                             log.path());
  const auto position = [&] { return redis.cli({"HGET", "ts:{u:trader}:pos", "AAPL"}); };
  const auto account = [&] { return redis.cli({"GET", "ts:{u:trader}:acct"}); };
  // The stream's partial fill is stored...
  REQUIRE(wait_until([&] { return redis.cli({"ZSCORE", "ts:{u:trader}:execs", "x:x-1"}) != "\n"; }, 10s));
  // ...and within an interval the broker's truth: the whole position at its average, the cash
  // of both fills, not provisional.
  REQUIRE(wait_until(
      [&] {
        const auto p = position();
        const auto a = account();
        return p.find(R"("quantity":"10")") != std::string::npos &&
               p.find(R"("entryPrice":"189.4")") != std::string::npos &&
               a.find(R"("cash":"98106.00")") != std::string::npos && a.find("provisional") == std::string::npos;
      },
      10s));
  CHECK(position().find(R"("source":"reconcile")") != std::string::npos);
  // The order the stream left partially filled is closed as the broker has it (filled).
  REQUIRE(wait_until([&] { return redis.cli({"HEXISTS", "ts:{u:trader}:orders", "o-7"}) == "0\n"; }, 10s));
  // Every stored event has the next seq: the history holds 1..seq with no gap.
  const auto seq = std::stoll(redis.cli({"GET", "ts:{u:trader}:seq"}));
  CHECK(redis.cli({"XLEN", "ts:{u:trader}:hist"}) == std::to_string(seq) + "\n");
  // Once converged, further reconciliations change nothing.
  const int before = rest.requests();
  REQUIRE(wait_until([&] { return rest.requests() >= before + 4; }, 10s));  // two more cycles
  CHECK(std::stoll(redis.cli({"GET", "ts:{u:trader}:seq"})) == seq);
  ingest.signal(SIGTERM);
  const auto status = ingest.wait(10s);
  REQUIRE(status);
  CHECK(*status == 0);
  CHECK(log.text().find("PK-trader") == std::string::npos);  // credentials are never logged
}

TEST_CASE("a broker REST API that refuses the credentials is logged and retried, the stream goes on", "[reconcile]") {
  test::redis_server redis;
  std::atomic<bool> finished{false};
  test::fake_upstream stream([&](test::upstream_connection& ws, int) {
    ws.read_text();
    ws.text(true);
    ws.write(R"({"stream":"authorization","data":{"status":"authorized"}})");
    ws.read_text();
    ws.write(R"({"stream":"listening","data":{"streams":["trade_updates"]}})");
    ws.write(R"({"stream":"trade_updates","data":{"event":"new","order":)" + alpaca_order("new", "0") +
             R"(,"timestamp":"2026-11-23T14:30:00Z"}})");
    while (!finished) std::this_thread::sleep_for(10ms);
  });
  fake_rest rest("another-key");
  struct finish {
    std::atomic<bool>& f;
    ~finish() { f = true; }
  } stop_upstream{finished};
  const test::temp_file log("tickstream-reconcile-log");
  test::child_process ingest({TICKSTREAM_INGEST_BIN, "--alpaca-trading-url", stream.url("/stream"), "--alpaca-key",
                              "PK-trader", "--alpaca-secret", "sk", "--trading-user", "trader", "--broker-rest-url",
                              rest.url(), "--reconcile-interval", "1", "--redis-port", std::to_string(redis.port())},
                             log.path());
  REQUIRE(wait_until([&] { return redis.cli({"GET", "ts:{u:trader}:seq"}) == "1\n"; }, 10s));
  REQUIRE(wait_until([&] { return rest.requests() >= 2; }, 10s));  // retried at the next interval
  REQUIRE(wait_until([&] { return log.text().find("broker reconciliation failed") != std::string::npos; }));
  CHECK(log.text().find("HTTP 401") != std::string::npos);
  CHECK(redis.cli({"GET", "ts:{u:trader}:seq"}) == "1\n");
}

TEST_CASE("a fill the stream stores while the broker is being read is not undone by that read", "[reconcile]") {
  test::redis_server redis;
  std::atomic<bool> finished{false};
  std::atomic<bool> listening{false};
  std::atomic<bool> send_fill{false};
  std::atomic<bool> raced{false};
  const auto account_with = [](const std::string& cash) {
    return R"({"id":"904837e3","status":"ACTIVE","currency":"USD","cash":")" + cash +
           R"(","portfolio_value":"100000","equity":"100000","last_equity":"100000","buying_power":"200000",)"
           R"("multiplier":"2"})";
  };
  const std::string open_b7 = "[" + rest_order("new", "0", "") + "]";
  const auto position = [&] { return redis.cli({"HGET", "ts:{u:trader}:pos", "AAPL"}); };
  // The broker's last reply of a cycle (its open orders) leaves before the order fills; the
  // stream delivers the fill and ingest stores it before that reply arrives. From then on the
  // broker's replies hold the fill: cash 100000.00 − 10 × 189.40 = 98106.00, 10 AAPL @ 189.4.
  std::unique_ptr<fake_rest> rest_ptr;
  rest_ptr = std::make_unique<fake_rest>("PK-trader", [&](const std::string& target) -> std::optional<std::string> {
    if (target != open_orders || raced || !listening) return std::nullopt;
    raced = true;
    send_fill = true;
    wait_until([&] { return position().find(R"("quantity":"10")") != std::string::npos; }, 10s);
    rest_ptr->set("/v2/account", account_with("98106.00"));
    rest_ptr->set("/v2/positions", R"([{"symbol":"AAPL","qty":"10","side":"long","avg_entry_price":"189.4",)"
                                   R"("market_value":"1894","cost_basis":"1894"}])");
    rest_ptr->set(all_orders, "[" + rest_order("filled", "10", "189.4") + "]");
    rest_ptr->set(open_orders, "[]");
    return open_b7;
  });
  auto& rest = *rest_ptr;
  // Before the fill: cash 100000.00, no position, order b-7 open with nothing filled.
  rest.set("/v2/account", account_with("100000.00"));
  rest.set("/v2/positions", "[]");
  rest.set(all_orders, open_b7);
  rest.set(open_orders, open_b7);
  test::fake_upstream stream([&](test::upstream_connection& ws, int) {
    ws.read_text();
    ws.text(true);
    ws.write(R"({"stream":"authorization","data":{"status":"authorized"}})");
    ws.read_text();
    ws.write(R"({"stream":"listening","data":{"streams":["trade_updates"]}})");
    listening = true;
    while (!finished && !send_fill) std::this_thread::sleep_for(5ms);
    ws.write(R"({"stream":"trade_updates","data":{"event":"fill","execution_id":"x-1","order":)" +
             alpaca_order("filled", "10") +
             R"(,"position_qty":"10","price":"189.40","qty":"10","timestamp":"2026-11-23T14:30:02Z"}})");
    while (!finished) std::this_thread::sleep_for(10ms);
  });
  struct finish {
    std::atomic<bool>& f;
    ~finish() { f = true; }
  } stop_upstream{finished};
  const test::temp_file log("tickstream-reconcile-race-log");
  // A cycle at start and after the stream connects; the next periodic one only in an hour.
  test::child_process ingest({TICKSTREAM_INGEST_BIN, "--alpaca-trading-url", stream.url("/stream"), "--alpaca-key",
                              "PK-trader", "--alpaca-secret", "sk", "--trading-user", "trader", "--broker-rest-url",
                              rest.url(), "--reconcile-interval", "3600", "--redis-port", std::to_string(redis.port())},
                             log.path());
  REQUIRE(wait_until([&] { return raced.load(); }, 10s));
  // The read that missed the fill is not applied (it would take the position back to nothing
  // and the cash to 100000.00); the read a second later holds the fill and agrees with the
  // stream: the broker's account, not provisional.
  const auto account = [&] { return redis.cli({"GET", "ts:{u:trader}:acct"}); };
  REQUIRE(wait_until(
      [&] {
        const auto a = account();
        return a.find(R"("cash":"98106.00")") != std::string::npos && a.find("provisional") == std::string::npos;
      },
      10s));
  CHECK(position().find(R"("quantity":"10")") != std::string::npos);
  CHECK(position().find(R"("entryPrice":"189.4")") != std::string::npos);
  // No stored event ever took the position back.
  CHECK(redis.cli({"XRANGE", "ts:{u:trader}:hist", "-", "+"}).find(R"("quantity":"0")") == std::string::npos);
  ingest.signal(SIGTERM);
  REQUIRE(ingest.wait(10s));
  CHECK(log.text().find("the stored state changed while the broker was read") != std::string::npos);
}

TEST_CASE("a fill the reconciliation already counted is not applied again when the stream delivers it late",
          "[reconcile]") {
  test::redis_server redis;
  std::atomic<bool> finished{false};
  // The broker filled 10 AAPL @ 189.40 (order b-7). Its REST API already shows it: cash
  // 100000.00 − 10 × 189.40 = 98106.00, 10 @ 189.4, the order filled 10.
  fake_rest rest("PK-trader");
  rest.set("/v2/account", R"({"id":"904837e3","status":"ACTIVE","currency":"USD","cash":"98106.00",)"
                          R"("portfolio_value":"100000","equity":"100000","last_equity":"100000",)"
                          R"("buying_power":"198106","multiplier":"2"})");
  rest.set("/v2/positions", R"([{"symbol":"AAPL","qty":"10","side":"long","avg_entry_price":"189.4",)"
                            R"("market_value":"1894","cost_basis":"1894"}])");
  rest.set(all_orders, "[" + rest_order("filled", "10", "189.4") + "]");
  rest.set(open_orders, "[]");
  const auto account = [&] { return redis.cli({"GET", "ts:{u:trader}:acct"}); };
  // The stream delivers that fill only once the reconciliation has stored the broker's figures
  // (and no cycle is running), then a new order as a marker.
  test::fake_upstream stream([&](test::upstream_connection& ws, int) {
    ws.read_text();
    ws.text(true);
    ws.write(R"({"stream":"authorization","data":{"status":"authorized"}})");
    ws.read_text();
    ws.write(R"({"stream":"listening","data":{"streams":["trade_updates"]}})");
    while (!finished && account().find("98106.00") == std::string::npos) std::this_thread::sleep_for(10ms);
    for (int quiet = 0, seen = rest.requests(); quiet < 30 && !finished; std::this_thread::sleep_for(20ms)) {
      quiet = rest.requests() == seen ? quiet + 1 : 0;  // the cycle after the stream connected too
      seen = rest.requests();
    }
    ws.write(R"({"stream":"trade_updates","data":{"event":"fill","execution_id":"x-1","order":)" +
             alpaca_order("filled", "10") +
             R"(,"position_qty":"10","price":"189.40","qty":"10","timestamp":"2026-11-23T14:30:02Z"}})");
    ws.write(R"({"stream":"trade_updates","data":{"event":"new","order":{"id":"b-8","client_order_id":"o-8",)"
             R"("symbol":"MSFT","side":"buy","type":"limit","status":"new","qty":"1","filled_qty":"0",)"
             R"("submitted_at":"2026-11-23T14:31:00Z"},"timestamp":"2026-11-23T14:31:00Z"}})");
    while (!finished) std::this_thread::sleep_for(10ms);
  });
  struct finish {
    std::atomic<bool>& f;
    ~finish() { f = true; }
  } stop_upstream{finished};
  test::child_process ingest({TICKSTREAM_INGEST_BIN, "--alpaca-trading-url", stream.url("/stream"), "--alpaca-key",
                              "PK-trader", "--alpaca-secret", "sk", "--trading-user", "trader", "--broker-rest-url",
                              rest.url(), "--reconcile-interval", "3600", "--redis-port",
                              std::to_string(redis.port())});
  // The marker after the fill is stored: the fill is done (a user's events are stored in order).
  REQUIRE(wait_until([&] { return redis.cli({"HEXISTS", "ts:{u:trader}:orders", "o-8"}) == "1\n"; }, 10s));
  // The client sees the execution...
  CHECK(redis.cli({"ZSCORE", "ts:{u:trader}:execs", "x:x-1"}) != "\n");
  // ...but the cash moved once: 98106.00, the broker's, not 98106.00 − 1894.00 = 96212.00.
  const auto a = account();
  const auto cash_at = a.find(R"("cash":")");
  REQUIRE(cash_at != std::string::npos);
  CHECK(a.substr(cash_at + 8, a.find('"', cash_at + 8) - cash_at - 8) == "98106.00");
  CHECK(account().find("provisional") == std::string::npos);
  const auto position = redis.cli({"HGET", "ts:{u:trader}:pos", "AAPL"});
  CHECK(position.find(R"("quantity":"10")") != std::string::npos);
  CHECK(position.find(R"("entryPrice":"189.4")") != std::string::npos);
  CHECK(position.find(R"("source":"reconcile")") != std::string::npos);
  CHECK(redis.cli({"HGET", "ts:{u:trader}:filled", "b-7"}) == "10\n");
  ingest.signal(SIGTERM);
  REQUIRE(ingest.wait(10s));
}

TEST_CASE("open orders converge with the broker's through reconciliation, with consecutive seqs", "[reconcile]") {
  test::redis_server redis;
  std::atomic<bool> finished{false};
  // The stream delivers order o-5 as new and nothing after; the broker canceled it, and has an
  // open order o-6 the stream never delivered.
  test::fake_upstream stream([&](test::upstream_connection& ws, int) {
    ws.read_text();
    ws.text(true);
    ws.write(R"({"stream":"authorization","data":{"status":"authorized"}})");
    ws.read_text();
    ws.write(R"({"stream":"listening","data":{"streams":["trade_updates"]}})");
    ws.write(R"({"stream":"trade_updates","data":{"event":"new","order":{"id":"b-5",)"
             R"("client_order_id":"o-5","symbol":"AAPL","side":"buy","type":"limit",)"
             R"("status":"new","qty":"10","filled_qty":"0","submitted_at":"2026-11-23T14:30:00Z"},)"
             R"("timestamp":"2026-11-23T14:30:00Z"}})");
    while (!finished) std::this_thread::sleep_for(10ms);
  });
  fake_rest rest("PK-trader");
  rest.set("/v2/account", R"({"cash":"100000.00","equity":"100000","last_equity":"100000","buying_power":"200000",)"
                          R"("portfolio_value":"100000","multiplier":"2"})");
  rest.set("/v2/positions", "[]");
  // Not before o-5 is stored: the broker's open orders would otherwise be reconciled first.
  const auto stored = [&] { return redis.cli({"HEXISTS", "ts:{u:trader}:orders", "o-5"}) == "1\n"; };
  rest.set(all_orders, "[]");
  rest.set(open_orders, "[]");
  struct finish {
    std::atomic<bool>& f;
    ~finish() { f = true; }
  } stop_upstream{finished};
  test::child_process ingest({TICKSTREAM_INGEST_BIN, "--alpaca-trading-url", stream.url("/stream"), "--alpaca-key",
                              "PK-trader", "--alpaca-secret", "sk", "--trading-user", "trader", "--broker-rest-url",
                              rest.url(), "--reconcile-interval", "1", "--redis-port", std::to_string(redis.port())});
  REQUIRE(wait_until(stored, 10s));
  rest.set(all_orders, "[" + rest_order("new", "0", "", "6") + "," + rest_order("canceled", "0", "", "5") + "]");
  rest.set(open_orders, "[" + rest_order("new", "0", "", "6") + "]");
  REQUIRE(wait_until([&] { return redis.cli({"HEXISTS", "ts:{u:trader}:orders", "o-6"}) == "1\n"; }, 10s));
  REQUIRE(wait_until([&] { return !stored(); }, 10s));  // o-5 closed as the broker has it
  const auto o6 = redis.cli({"HGET", "ts:{u:trader}:orders", "o-6"});
  CHECK(o6.find(R"("status":"new")") != std::string::npos);
  CHECK(o6.find(R"("source":"reconcile")") != std::string::npos);
  const auto history = redis.cli({"XRANGE", "ts:{u:trader}:hist", "-", "+"});
  CHECK(
      history.find(
          R"("orderId":"o-5","brokerOrderId":"b-5","symbol":"AAPL","side":"buy","type":"limit","status":"canceled")") !=
      std::string::npos);
  // Every stored event has the next seq; once converged, nothing more is stored.
  const auto seq = std::stoll(redis.cli({"GET", "ts:{u:trader}:seq"}));
  CHECK(redis.cli({"XLEN", "ts:{u:trader}:hist"}) == std::to_string(seq) + "\n");
  const int before = rest.requests();
  REQUIRE(wait_until([&] { return rest.requests() >= before + 8; }, 10s));  // two more cycles
  CHECK(std::stoll(redis.cli({"GET", "ts:{u:trader}:seq"})) == seq);
  ingest.signal(SIGTERM);
  REQUIRE(ingest.wait(10s));
}
