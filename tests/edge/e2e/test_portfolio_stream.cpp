// The portfolio stream end to end (issue 6): real redis-server, ingest and two edges; the broker
// and market sources are fake upstreams speaking Alpaca's and Finnhub's formats over loopback.

#include <catch2/catch.hpp>

#include <signal.h>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <optional>
#include <thread>

#include "common/event_codec.hpp"
#include "common/redis/redis_client.hpp"
#include "edge/app.hpp"
#include "ingest/publish/private_store.hpp"
#include "tests/edge/support/edge_fixture.hpp"
#include "tests/edge/support/user_clients.hpp"
#include "tests/support/fake_sse_broker.hpp"
#include "tests/support/fake_upstream.hpp"
#include "tests/support/temp_file.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::wait_until;

namespace {

// An edge in this process, as edge_process runs one outside it.
test::edge_fixture user_edge(const std::function<void(edge::app_config&)>& more = {}) {
  return test::edge_fixture([&](edge::app_config& c) {
    c.jwt_algorithms = "HS256";
    c.jwt_hs_secret = test::user_secret;
    c.max_connects_per_ip = 0;
    if (more) more(c);
  });
}

// Every message a client received, batches unpacked, in order.
struct transcript {
  client::ws_client& ws;
  std::vector<std::string> messages;

  // Reads until stop(message) is true for a new message; false on timeout or close.
  bool until(const std::function<bool(const rapidjson::Document&)>& stop, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto f = ws.next(200ms);
      if (!f) {
        if (ws.closed()) return false;
        continue;
      }
      auto d = test::parse(*f);
      std::vector<std::string> items;
      if (std::string_view(d["type"].GetString()) == "batch") {
        for (const auto& e : d["events"].GetArray()) {
          rapidjson::StringBuffer b;
          rapidjson::Writer<rapidjson::StringBuffer> w(b);
          e.Accept(w);
          items.emplace_back(b.GetString(), b.GetSize());
        }
      } else {
        items.push_back(*f);
      }
      bool done = false;
      for (auto& m : items) {
        messages.push_back(m);
        if (!done && stop(test::parse(m))) done = true;
      }
      if (done) return true;
    }
    return false;
  }
  // The seqs of the stored events received, in order.
  std::vector<std::int64_t> seqs() const {
    std::vector<std::int64_t> out;
    for (const auto& m : messages) {
      auto d = test::parse(m);
      const std::string_view type = d["type"].GetString();
      if (type != "snapshot" && type != "resync" && d.HasMember("seq")) out.push_back(d["seq"].GetInt64());
    }
    return out;
  }
};

std::string type_of(const rapidjson::Document& d) { return d["type"].GetString(); }
std::string data_field(const rapidjson::Document& d, const char* name) {
  if (!d.HasMember("data") || !d["data"].HasMember(name) || !d["data"][name].IsString()) return {};
  return d["data"][name].GetString();
}

// Subscribes to every private channel (and symbols) and returns the snapshot (or resync) frame.
// record: where the two frames are kept, if anywhere.
rapidjson::Document subscribe_portfolio(client::ws_client& ws, const std::string& extra = {},
                                        std::vector<std::string>* record = nullptr) {
  const auto msg = R"({"type":"subscribe","channels":["positions","orders","account","trades"])" + extra + "}";
  REQUIRE(ws.send(msg));
  auto sub = ws.next(5s);
  REQUIRE(sub);
  REQUIRE(test::type_of(*sub) == "subscribed");
  auto snap = ws.next(5s);
  REQUIRE(snap);
  if (record != nullptr) record->insert(record->end(), {"-> " + msg, "<- " + *sub, "<- " + *snap});
  return test::parse(*snap);
}

common::order_update order_event(const std::string& user, const std::string& id, const std::string& status) {
  common::order_update o;
  o.header = test::header_for(user);
  o.order_id = id;
  o.broker_order_id = "b-" + id;
  o.symbol = "AAPL";
  o.side = "buy";
  o.order_type = "limit";
  o.status = status;
  o.qty = "1";
  o.submitted_at_us = o.header.time_us;
  return o;
}

struct store_client {
  common::redis_client redis;
  ingest::private_store store;
  explicit store_client(int port, std::int64_t history = 1000)
      : redis([port] {
          common::redis_options o;
          o.port = port;
          return o;
        }()),
        store(redis, history) {
    redis.start();
  }
  // Stores ev and waits for its seq.
  std::int64_t put(common::event ev) {
    std::atomic<std::int64_t> seq{-1};
    store.store(std::move(ev), [&](common::result<std::int64_t> r) { seq = r ? r.value() : 0; });
    REQUIRE(wait_until([&] { return seq.load() >= 0; }));
    return seq.load();
  }
};

std::string alpaca_order(const std::string& status, const std::string& filled, const std::string& avg) {
  return R"({"id":"b-7","client_order_id":"o-7","symbol":"AAPL","side":"buy","order_type":"limit","type":"limit",)"
         R"("status":")" +
         status + R"(","qty":"10","filled_qty":")" + filled + R"(","filled_avg_price":)" +
         (avg.empty() ? std::string("null") : "\"" + avg + "\"") +
         R"(,"submitted_at":"2026-11-23T14:30:00Z","filled_at":null})";
}

}  // namespace

TEST_CASE("the trading story: an order fills, the position and account follow, ticks move the P&L exactly",
          "[portfolio]") {
  auto a = user_edge();
  test::edge_process b(a.redis.port(), "edge-b");
  const int a_port = a.edge->port();

  // The broker: authenticates, listens, then plays the order's life when told to.
  std::atomic<bool> trade{false};
  std::atomic<bool> finished{false};
  test::fake_upstream broker([&](test::upstream_connection& ws, int) {
    ws.read_text();  // auth
    ws.text(true);
    ws.write(R"({"stream":"authorization","data":{"action":"authenticate","status":"authorized"}})");
    ws.read_text();  // listen
    ws.write(R"({"stream":"listening","data":{"streams":["trade_updates"]}})");
    while (!trade && !finished) std::this_thread::sleep_for(10ms);
    if (finished) return;
    for (const auto& m :
         {R"({"stream":"trade_updates","data":{"event":"new","order":)" + alpaca_order("new", "0", "") +
              R"(,"timestamp":"2026-11-23T14:30:00Z"}})",
          R"({"stream":"trade_updates","data":{"event":"partial_fill","execution_id":"x-1","order":)" +
              alpaca_order("partially_filled", "4", "189.25") +
              R"(,"position_qty":"4","price":"189.25","qty":"4","timestamp":"2026-11-23T14:30:01Z"}})",
          R"({"stream":"trade_updates","data":{"event":"fill","execution_id":"x-2","order":)" +
              alpaca_order("filled", "10", "189.4") +
              R"(,"position_qty":"10","price":"189.50","qty":"6","timestamp":"2026-11-23T14:30:02Z"}})"}) {
      ws.write(m);
    }
    while (!finished) std::this_thread::sleep_for(10ms);
  });
  // The market: a Finnhub stream that sends AAPL trades when told to.
  std::atomic<int> ticks{0};
  test::fake_upstream market([&](test::upstream_connection& ws, int) {
    ws.read_text();  // subscribe AAPL
    ws.text(true);
    int sent = 0;
    const char* prices[] = {"190.00", "191.37"};
    while (!finished) {
      if (sent < ticks.load() && sent < 2) {
        ws.write(std::string(R"({"type":"trade","data":[{"s":"AAPL","p":)") + prices[sent] +
                 R"(,"t":1795185000000,"v":100}]})");
        ++sent;
      }
      std::this_thread::sleep_for(10ms);
    }
  });
  test::child_process ingest({TICKSTREAM_INGEST_BIN, "--alpaca-trading-url", broker.url("/stream"), "--alpaca-key", "k",
                              "--alpaca-secret", "s", "--trading-user", "trader", "--finnhub-url",
                              market.url("/?token=t"), "--finnhub-symbols", "AAPL", "--redis-port",
                              std::to_string(a.redis.port()), "--heartbeat-ms", "200"});
  struct finish {
    std::atomic<bool>& f;
    ~finish() { f = true; }
  } finish_upstreams{finished};

  // The account as the broker's webhook last reported it.
  store_client store(a.redis.port());
  common::account_update acct;
  acct.header = test::header_for("trader", "webhook");
  acct.equity = "100000.00";
  acct.buying_power = "200000.00";
  acct.cash = "100000.00";
  acct.portfolio_value = "100000.00";
  acct.day_pnl = "0.00";
  acct.day_pnl_percent = "0.00";
  acct.last_equity = "100000.00";  // the previous close
  acct.multiplier = "2";           // a margin account
  REQUIRE(store.put(acct) == 1);

  // Two screens: one on each edge.
  auto c1 = test::connect_as(a_port, "trader");
  auto c2 = test::connect_as(b.port, "trader");
  std::vector<std::string> opening;  // c1's
  for (auto* c : {c1.get(), c2.get()}) {
    auto snap = subscribe_portfolio(*c, {}, c == c1.get() ? &opening : nullptr);
    CHECK(type_of(snap) == "snapshot");
    CHECK(snap["seq"].GetInt64() == 1);
    CHECK(snap["positions"].Size() == 0);
    CHECK(std::string(snap["account"]["data"]["cash"].GetString()) == "100000.00");
  }
  REQUIRE(wait_until([&] { return broker.connections() == 1 && market.connections() == 1; }));
  trade = true;

  std::vector<transcript> screens{{*c1, {}}, {*c2, {}}};
  for (auto& t : screens) {
    REQUIRE(t.until([](const rapidjson::Document& d) {
      return type_of(d) == "position_update" && d.HasMember("seq") && data_field(d, "quantity") == "10";
    }));
  }
  ticks = 1;
  for (auto& t : screens) {
    REQUIRE(t.until([](const rapidjson::Document& d) { return data_field(d, "unrealizedPnl") == "6.00"; }));
  }
  ticks = 2;
  // Each fill moved the cash: 100000 − 4 × 189.25 = 99243.00, − 6 × 189.50 = 98106.00; marked at
  // 191.37 the account is 98106.00 + 10 × 191.37 = 100019.70 (not counting the purchase twice).
  for (auto& t : screens) {
    REQUIRE(t.until([](const rapidjson::Document& d) { return data_field(d, "equity") == "100019.70"; }));
  }

  for (auto& t : screens) {
    // Stored events: every seq after the snapshot's, once, in order (each fill: order, trade,
    // position, account).
    CHECK(t.seqs() == std::vector<std::int64_t>{2, 3, 4, 5, 6, 7, 8, 9, 10});
    std::vector<std::string> statuses, fills;
    for (const auto& m : t.messages) {
      auto d = test::parse(m);
      if (type_of(d) == "order_update") statuses.push_back(data_field(d, "status"));
      if (type_of(d) == "trade_executed") fills.push_back(data_field(d, "qty") + "@" + data_field(d, "price"));
    }
    CHECK(statuses == std::vector<std::string>{"new", "partially_filled", "filled"});
    CHECK(fills == std::vector<std::string>{"4@189.25", "6@189.50"});
    // The position after the fill: exact average entry price (4 × 189.25 + 6 × 189.50) / 10.
    auto last_position = [&](bool with_seq) {
      for (auto it = t.messages.rbegin(); it != t.messages.rend(); ++it) {
        auto d = test::parse(*it);
        if (type_of(d) == "position_update" && d.HasMember("seq") == with_seq) return d;
      }
      FAIL("no position_update");
      return rapidjson::Document{};
    };
    auto stored = last_position(true);
    CHECK(stored["seq"].GetInt64() == 9);
    CHECK(data_field(stored, "realizedPnl") == "0.00");
    CHECK(data_field(stored, "entryPrice") == "189.4");
    CHECK(data_field(stored, "side") == "long");
    // Marked at 191.37: (191.37 − 189.4) × 10.
    auto mark = last_position(false);
    CHECK(data_field(mark, "currentPrice") == "191.37");
    CHECK(data_field(mark, "marketValue") == "1913.70");
    CHECK(data_field(mark, "unrealizedPnl") == "19.70");
    CHECK(data_field(mark, "unrealizedPnlPercent") == "1.04");
    // The stored accounts: cash moved by each fill, provisional until the broker reports again.
    std::vector<std::string> cash;
    for (const auto& m : t.messages) {
      auto d = test::parse(m);
      if (type_of(d) == "account_update" && d.HasMember("seq")) {
        cash.push_back(data_field(d, "cash"));
        CHECK(d["data"]["provisional"].GetBool());
      }
    }
    CHECK(cash == std::vector<std::string>{"99243.00", "98106.00"});
    // The last account mark, at 191.37, labelled with the tick that caused it: day P&L
    // 100019.70 − 100000.00 = 19.70, 19.70 / 100000 × 100 = 0.0197 → 0.02; buying power
    // 2 × (100019.70 − 1913.70 / 2) = 2 × 99062.85 = 198125.70.
    for (auto it = t.messages.rbegin(); it != t.messages.rend(); ++it) {
      auto d = test::parse(*it);
      if (type_of(d) != "account_update" || d.HasMember("seq")) continue;
      CHECK(data_field(d, "equity") == "100019.70");
      CHECK(data_field(d, "cash") == "98106.00");
      CHECK(data_field(d, "dayPnl") == "19.70");
      CHECK(data_field(d, "dayPnlPercent") == "0.02");
      CHECK(data_field(d, "buyingPower") == "198125.70");
      CHECK(data_field(d, "lastEquity") == "100000.00");
      CHECK(std::string(d["source"].GetString()) == "finnhub");
      break;
    }
  }
  {
    std::ofstream out("trading-story-transcript.txt");
    for (const auto& m : opening) out << m << "\n";
    for (const auto& m : screens[0].messages) out << "<- " << m << "\n";
  }

  // The REST fallback shows the same state, with the same seq, on either edge.
  const auto get = [&](int port, const std::string& target, bool auth = true) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (auth) headers.push_back(test::bearer_for("trader"));
    auto r = client::http_get("127.0.0.1", std::to_string(port), target, 5s, headers);
    REQUIRE(r.ok());
    return std::move(r).value();
  };
  for (const int port : {a_port, b.port}) {
    auto positions = get(port, "/api/positions");
    REQUIRE(positions.status == 200);
    auto p = test::parse(positions.body);
    CHECK(p["seq"].GetInt64() == 10);
    REQUIRE(p["positions"].Size() == 1);
    const auto& pos = p["positions"][0]["data"];
    CHECK(std::string(pos["quantity"].GetString()) == "10");
    CHECK(std::string(pos["unrealizedPnl"].GetString()) == "19.70");
    auto orders = test::parse(get(port, "/api/orders").body);
    CHECK(orders["orders"].Size() == 0);  // filled: no longer open
    auto account = test::parse(get(port, "/api/account").body);
    CHECK(std::string(account["account"]["data"]["equity"].GetString()) == "100019.70");
    auto prices = test::parse(get(port, "/api/prices?symbols=aapl,ZZZ").body);
    REQUIRE(prices["prices"].Size() == 1);
    CHECK(std::string(prices["prices"][0]["symbol"].GetString()) == "AAPL");
    CHECK(std::string(prices["missing"][0].GetString()) == "ZZZ");
    CHECK(get(port, "/api/positions", false).status == 401);
    CHECK(get(port, "/api/prices?symbols=not%20a%20symbol").status == 400);
  }
  // Refused REST requests are counted as REST requests, not as refused WebSocket upgrades.
  const auto metrics = a.get("/metrics").body;
  CHECK(test::metric_value(metrics, R"(tickstream_edge_rest_requests_total{code="401",endpoint="positions"})") == 1);
  CHECK(test::metric_value(metrics, R"(tickstream_edge_rest_requests_total{code="400",endpoint="prices"})") == 1);
  CHECK(test::metric_value(metrics, R"(tickstream_edge_rest_requests_total{code="200",endpoint="positions"})") == 1);
  CHECK(metrics.find("tickstream_edge_rejected_upgrades_total{reason=\"missing_credentials\"}") == std::string::npos);
}

TEST_CASE("the trading story goes on: a sell, a flip to short and a cover to flat, each to the cent", "[portfolio]") {
  auto a = user_edge();
  // The broker: fills of four orders, one step at a time; the market: one AAPL trade per step.
  std::atomic<int> step{0};
  std::atomic<bool> finished{false};
  struct fill {
    const char* side;
    const char* qty;
    const char* price;
    const char* position_qty;
  };
  const fill fills[] = {
      {"buy", "10", "100", "10"}, {"sell", "4", "102", "6"}, {"sell", "10", "104", "-4"}, {"buy", "4", "103", "0"}};
  test::fake_upstream broker([&](test::upstream_connection& ws, int) {
    ws.read_text();
    ws.text(true);
    ws.write(R"({"stream":"authorization","data":{"status":"authorized"}})");
    ws.read_text();
    ws.write(R"({"stream":"listening","data":{"streams":["trade_updates"]}})");
    int sent = 0;
    while (!finished) {
      if (sent < step.load() && sent < 4) {
        const auto& f = fills[sent];
        const std::string n = std::to_string(sent + 1);
        ws.write(R"({"stream":"trade_updates","data":{"event":"fill","execution_id":"x-)" + n + R"(","order":)" +
                 R"({"id":"b-)" + n + R"(","client_order_id":"o-)" + n + R"(","symbol":"AAPL","side":")" + f.side +
                 R"(","type":"market","status":"filled","qty":")" + f.qty + R"(","filled_qty":")" + f.qty +
                 R"(","filled_avg_price":")" + f.price + R"(","submitted_at":"2026-11-23T14:3)" + n + R"(:00Z"},)" +
                 R"("position_qty":")" + f.position_qty + R"(","price":")" + f.price + R"(","qty":")" + f.qty +
                 R"(","timestamp":"2026-11-23T14:3)" + n + R"(:01Z"}})");
        ++sent;
      }
      std::this_thread::sleep_for(10ms);
    }
  });
  std::atomic<int> ticks{0};
  test::fake_upstream market([&](test::upstream_connection& ws, int) {
    ws.read_text();
    ws.text(true);
    const char* prices[] = {"101", "103", "105"};
    int sent = 0;
    while (!finished) {
      if (sent < ticks.load() && sent < 3) {
        ws.write(std::string(R"({"type":"trade","data":[{"s":"AAPL","p":)") + prices[sent] +
                 R"(,"t":1795185000000,"v":100}]})");
        ++sent;
      }
      std::this_thread::sleep_for(10ms);
    }
  });
  test::child_process ingest({TICKSTREAM_INGEST_BIN, "--alpaca-trading-url", broker.url("/stream"), "--alpaca-key", "k",
                              "--alpaca-secret", "s", "--trading-user", "trader", "--finnhub-url",
                              market.url("/?token=t"), "--finnhub-symbols", "AAPL", "--redis-port",
                              std::to_string(a.redis.port())});
  struct finish {
    std::atomic<bool>& f;
    ~finish() { f = true; }
  } finish_upstreams{finished};
  store_client store(a.redis.port());
  common::account_update acct;
  acct.header = test::header_for("trader", "webhook");
  acct.equity = acct.portfolio_value = acct.cash = "100000.00";
  acct.buying_power = "100000.00";
  acct.day_pnl = acct.day_pnl_percent = "0.00";
  acct.last_equity = "100000.00";
  REQUIRE(store.put(acct) == 1);
  auto c = test::connect_as(a.edge->port(), "trader");
  subscribe_portfolio(*c);
  REQUIRE(wait_until([&] { return broker.connections() == 1 && market.connections() == 1; }));
  transcript t{*c, {}};
  const auto stored = [](const char* type, const std::string& field, const std::string& value) {
    return [=](const rapidjson::Document& d) {
      return type_of(d) == type && d.HasMember("seq") && data_field(d, field.c_str()) == value;
    };
  };
  const auto mark = [](const char* field, const std::string& value) {
    return [=](const rapidjson::Document& d) {
      return type_of(d) == "account_update" && !d.HasMember("seq") && data_field(d, field) == value;
    };
  };
  // The last stored event of a type, and the last mark of a type.
  const auto last = [&](const char* type, bool with_seq) {
    for (auto it = t.messages.rbegin(); it != t.messages.rend(); ++it) {
      auto d = test::parse(*it);
      if (type_of(d) == type && d.HasMember("seq") == with_seq) return d;
    }
    FAIL("no " << type);
    return rapidjson::Document{};
  };

  // 1. Buy 10 @ 100: 10 @ 100, cash 100000 − 1000 = 99000.00.
  step = 1;
  REQUIRE(t.until(stored("account_update", "cash", "99000.00")));
  CHECK(data_field(last("position_update", true), "entryPrice") == "100");
  CHECK(data_field(last("position_update", true), "realizedPnl") == "0.00");
  // AAPL 101: unrealized (101 − 100) × 10 = 10.00; equity 99000 + 1010 = 100010.00, day P&L 10.00.
  ticks = 1;
  REQUIRE(t.until(mark("equity", "100010.00")));
  CHECK(data_field(last("account_update", false), "dayPnl") == "10.00");
  CHECK(data_field(last("position_update", false), "unrealizedPnl") == "10.00");

  // 2. Sell 4 @ 102: realized (102 − 100) × 4 = 8.00; 6 @ 100; cash 99000 + 408 = 99408.00.
  step = 2;
  REQUIRE(t.until(stored("account_update", "cash", "99408.00")));
  {
    auto p = last("position_update", true);
    CHECK(data_field(p, "quantity") == "6");
    CHECK(data_field(p, "entryPrice") == "100");
    CHECK(data_field(p, "realizedPnl") == "8.00");
    CHECK(data_field(p, "unrealizedPnl") == "6.00");  // marked at 101: (101 − 100) × 6
  }
  // AAPL 103: unrealized 3 × 6 = 18.00; equity 99408 + 618 = 100026.00 (= 8 realized + 18).
  ticks = 2;
  REQUIRE(t.until(mark("equity", "100026.00")));
  CHECK(data_field(last("account_update", false), "dayPnl") == "26.00");

  // 3. Sell 10 @ 104: closes 6 for (104 − 100) × 6 = 24 (32.00 in all), opens a short of 4 @ 104
  // whose proceeds are cash: 99408 + 1040 = 100448.00.
  step = 3;
  REQUIRE(t.until(stored("account_update", "cash", "100448.00")));
  {
    auto p = last("position_update", true);
    CHECK(data_field(p, "side") == "short");
    CHECK(data_field(p, "quantity") == "4");
    CHECK(data_field(p, "entryPrice") == "104");
    CHECK(data_field(p, "realizedPnl") == "32.00");
  }
  // AAPL 105: the short is worth −420.00, unrealized (105 − 104) × −4 = −4.00;
  // equity 100448 − 420 = 100028.00 = 100000 + 32 realized − 4 unrealized; day P&L 28.00.
  ticks = 3;
  REQUIRE(t.until(mark("equity", "100028.00")));
  CHECK(data_field(last("account_update", false), "dayPnl") == "28.00");
  CHECK(data_field(last("account_update", false), "dayPnlPercent") == "0.03");  // 28 / 100000 × 100 = 0.028
  {
    auto m = last("position_update", false);
    CHECK(data_field(m, "marketValue") == "-420.00");
    CHECK(data_field(m, "unrealizedPnl") == "-4.00");
    CHECK(data_field(m, "unrealizedPnlPercent") == "-0.96");  // −4 / 416 × 100 = −0.9615…
  }

  // 4. Buy 4 @ 103 to cover: realized −(103 − 104) × 4 = +4 (36.00 in all), flat; cash
  // 100448 − 412 = 100036.00, and with nothing held the equity is the cash: day P&L 36.00.
  step = 4;
  REQUIRE(t.until(stored("account_update", "cash", "100036.00")));
  {
    auto p = last("position_update", true);
    CHECK(data_field(p, "quantity") == "0");
    CHECK(data_field(p, "realizedPnl") == "36.00");
  }
  {
    auto acc = last("account_update", true);  // the stored account, valued as it is delivered
    CHECK(data_field(acc, "equity") == "100036.00");
    CHECK(data_field(acc, "dayPnl") == "36.00");
    CHECK(acc["data"]["provisional"].GetBool());
  }
  const auto seqs = t.seqs();
  for (std::size_t i = 1; i < seqs.size(); ++i) CHECK(seqs[i] == seqs[i - 1] + 1);  // none lost, none twice
  // Every account the client saw, stored or mark, in order: never the new position with the old
  // cash. Stored after fill 1 (AAPL not priced yet: as stored), at 101, stored after fill 2
  // (99408 + 6 × 101 = 100014), at 103, stored after fill 3 (100448 − 4 × 103 = 100036), at 105,
  // stored after fill 4 (flat: the cash).
  std::vector<std::string> equities;
  for (const auto& m : t.messages) {
    auto d = test::parse(m);
    if (type_of(d) == "account_update") equities.push_back(data_field(d, "equity"));
  }
  CHECK(equities == std::vector<std::string>{"100000.00", "100010.00", "100014.00", "100026.00", "100036.00",
                                             "100028.00", "100036.00"});
}

TEST_CASE("resume on the other edge with since: exactly the missed events, then live ones", "[portfolio]") {
  auto a = user_edge();
  test::edge_process b(a.redis.port(), "edge-b");
  store_client store(a.redis.port());
  auto c1 = test::connect_as(a.edge->port(), "u-r");
  CHECK(subscribe_portfolio(*c1)["seq"].GetInt64() == 0);
  for (int i = 1; i <= 5; ++i) store.put(order_event("u-r", "o" + std::to_string(i), "new"));
  transcript t1{*c1, {}};
  REQUIRE(t1.until([](const rapidjson::Document& d) { return d.HasMember("seq") && d["seq"].GetInt64() == 5; }));
  c1->close();
  for (int i = 6; i <= 10; ++i) store.put(order_event("u-r", "o" + std::to_string(i), "new"));

  auto c2 = test::connect_as(b.port, "u-r");
  REQUIRE(c2->send(R"({"type":"subscribe","channels":["positions","orders","account","trades"],"since":5})"));
  transcript t2{*c2, {}};
  REQUIRE(t2.until([](const rapidjson::Document& d) { return type_of(d) == "subscribed"; }));
  REQUIRE(t2.until([](const rapidjson::Document& d) { return d.HasMember("seq") && d["seq"].GetInt64() == 10; }));
  for (int i = 11; i <= 13; ++i) store.put(order_event("u-r", "o" + std::to_string(i), "new"));
  REQUIRE(t2.until([](const rapidjson::Document& d) { return d.HasMember("seq") && d["seq"].GetInt64() == 13; }));
  CHECK(t2.seqs() == std::vector<std::int64_t>{6, 7, 8, 9, 10, 11, 12, 13});
  for (const auto& m : t2.messages) CHECK(m.find(R"("type":"resync")") == std::string::npos);

  SECTION("a history too short for since gets resync with a fresh snapshot") {
    CHECK(a.redis.cli({"XTRIM", "ts:{u:u-r}:hist", "MAXLEN", "3"}) == "10\n");  // keeps 11..13
    auto c3 = test::connect_as(a.edge->port(), "u-r");
    auto resync = subscribe_portfolio(*c3, R"(,"since":7)");
    CHECK(type_of(resync) == "resync");
    CHECK(std::string(resync["reason"].GetString()) == "history_truncated");
    CHECK(resync["seq"].GetInt64() == 13);
    CHECK(resync["orders"].Size() == 13);  // every order is still open
    store.put(order_event("u-r", "o14", "new"));
    transcript t3{*c3, {}};
    REQUIRE(t3.until([](const rapidjson::Document& d) { return d.HasMember("seq") && d["seq"].GetInt64() == 14; }));
    CHECK(t3.seqs() == std::vector<std::int64_t>{14});
  }
  SECTION("a since ahead of Redis (it lost data) gets resync too") {
    auto c3 = test::connect_as(a.edge->port(), "u-r");
    auto resync = subscribe_portfolio(*c3, R"(,"since":99)");
    CHECK(type_of(resync) == "resync");
    CHECK(std::string(resync["reason"].GetString()) == "sequence_reset");
    CHECK(resync["seq"].GetInt64() == 13);
  }
}

TEST_CASE("a snapshot taken while 1,000 events a second flow never loses or doubles one", "[portfolio]") {
  auto a = user_edge();
  test::edge_process b(a.redis.port(), "edge-b");
  store_client store(a.redis.port());
  // Odd seqs open order o<seq>, even seqs fill it: at seq S the open orders are exactly {o<S>}
  // for odd S and none for even S, so a snapshot shows whether it matches its seq.
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> stored{0};
  std::thread producer([&] {
    auto next = std::chrono::steady_clock::now();
    for (std::int64_t n = 1; !stop; ++n) {
      const bool open = n % 2 == 1;
      store.store.store(order_event("u-load", "o" + std::to_string(open ? n : n - 1), open ? "new" : "filled"),
                        [&](common::result<std::int64_t> r) {
                          if (r) stored = r.value();
                        });
      next += 1ms;  // 1,000 a second
      std::this_thread::sleep_until(next);
    }
  });
  struct joiner {
    std::atomic<bool>& stop;
    std::thread& t;
    ~joiner() {
      stop = true;
      t.join();
    }
  } join_producer{stop, producer};

  constexpr int rounds = 30;
  for (int round = 0; round < rounds; ++round) {
    INFO("round " << round);
    auto c = test::connect_as(round % 2 == 0 ? a.edge->port() : b.port, "u-load");
    auto snap = subscribe_portfolio(*c);
    REQUIRE(type_of(snap) == "snapshot");
    const auto s = snap["seq"].GetInt64();
    REQUIRE(snap["orders"].Size() == static_cast<rapidjson::SizeType>(s % 2));
    if (s % 2 == 1) {
      CHECK(std::string(snap["orders"][0]["data"]["orderId"].GetString()) == "o" + std::to_string(s));
    }
    const auto target = stored.load() + 100;
    transcript t{*c, {}};
    REQUIRE(t.until([&](const rapidjson::Document& d) { return d.HasMember("seq") && d["seq"].GetInt64() >= target; }));
    const auto seqs = t.seqs();
    REQUIRE(!seqs.empty());
    CHECK(seqs.front() == s + 1);
    for (std::size_t i = 1; i < seqs.size(); ++i) {
      if (seqs[i] != seqs[i - 1] + 1) FAIL_CHECK("seq " << seqs[i - 1] << " then " << seqs[i]);
    }
  }
}

TEST_CASE("Redis killed and restarted mid-stream: every client ends gap-free or with an explicit resync",
          "[portfolio][restart]") {
  test::redis_server redis(true);  // append-only file, fsync on every write
  edge::app_config ca;
  auto a = test::make_edge([&] {
    ca.listen_host = "127.0.0.1";
    ca.port = 0;
    ca.threads = 2;
    ca.limits.batch_window = std::chrono::milliseconds(0);
    ca.redis_port = redis.port();
    ca.node_id = "edge-a";
    ca.jwt_algorithms = "HS256";
    ca.jwt_hs_secret = test::user_secret;
    ca.max_connects_per_ip = 0;
    return ca;
  }());
  a->start();
  test::edge_process b(redis.port(), "edge-b");
  store_client store(redis.port());

  std::vector<std::unique_ptr<client::ws_client>> clients;
  std::vector<transcript> screens;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(test::connect_as(i % 2 == 0 ? a->port() : b.port, "u-crash"));
    CHECK(subscribe_portfolio(*clients.back())["seq"].GetInt64() == 0);
  }
  for (auto& c : clients) screens.push_back({*c, {}});

  std::atomic<bool> stop{false};
  std::thread producer([&] {
    for (int n = 1; !stop; ++n) {
      store.store.store(order_event("u-crash", "o" + std::to_string(n), "new"), {});
      std::this_thread::sleep_for(5ms);
    }
  });
  std::this_thread::sleep_for(500ms);
  redis.kill();
  std::this_thread::sleep_for(300ms);
  redis.restart();
  std::this_thread::sleep_for(700ms);
  stop = true;
  producer.join();
  // Whatever the producer had queued is stored (or failed) once Redis is back.
  std::string last;
  REQUIRE(wait_until(
      [&] {
        std::this_thread::sleep_for(500ms);  // settled: unchanged over half a second
        const auto now = redis.cli({"GET", "ts:{u:u-crash}:seq"});
        const bool settled = now == last && !now.empty();
        last = now;
        return settled;
      },
      20s));
  const auto final_seq = std::stoll(last);
  REQUIRE(final_seq > 100);

  for (auto& t : screens) {
    REQUIRE(t.until(
        [&](const rapidjson::Document& d) { return (d.HasMember("seq") && d["seq"].GetInt64() == final_seq); }, 20s));
    // Consecutive seqs, except right after an explicit resync (which states its own seq).
    std::int64_t expect = 1;
    for (const auto& m : t.messages) {
      auto d = test::parse(m);
      if (type_of(d) == "resync") {
        expect = d["seq"].GetInt64() + 1;
      } else if (type_of(d) != "snapshot" && d.HasMember("seq")) {
        if (d["seq"].GetInt64() != expect) FAIL_CHECK("expected seq " << expect << ", got " << d["seq"].GetInt64());
        expect = d["seq"].GetInt64() + 1;
      }
    }
  }
  a->stop();
}

TEST_CASE("a source going silent makes its clients stale, and fresh once it is back, while others hear nothing",
          "[portfolio][stale]") {
  auto a = user_edge([](edge::app_config& c) { c.stale_after_ms = 1000; });
  std::atomic<bool> drop{false};
  const auto script = [&](test::upstream_connection& ws, int) {
    ws.read_text();
    ws.text(true);
    ws.write(R"({"type":"trade","data":[{"s":"AAPL","p":190.5,"t":1795185000000,"v":1}]})");
    while (!drop) std::this_thread::sleep_for(10ms);
  };
  auto market = std::make_unique<test::fake_upstream>(script);
  const auto url = market->url("/?token=t");
  const auto port = market->port();
  test::child_process ingest({TICKSTREAM_INGEST_BIN, "--finnhub-url", url, "--finnhub-symbols", "AAPL", "--redis-port",
                              std::to_string(a.redis.port()), "--heartbeat-ms", "100"});
  auto watcher = test::connect_as(a.edge->port(), "watcher");
  test::subscribe(*watcher, R"(["AAPL"])");
  REQUIRE(wait_until([&] {
    auto f = watcher->next(50ms);
    return f && test::type_of(*f) == "price_update";
  }));
  auto bystander = test::connect_as(a.edge->port(), "bystander");
  test::subscribe(*bystander, R"(["ZZZ"])");

  drop = true;
  market.reset();  // the source is gone; ingest keeps reporting it as disconnected
  transcript t{*watcher, {}};
  REQUIRE(t.until([](const rapidjson::Document& d) { return type_of(d) == "stale"; }, 10s));
  auto stale = test::parse(t.messages.back());
  CHECK(std::string(stale["source"].GetString()) == "finnhub");
  CHECK(stale["since_us"].GetInt64() <= common::now_us() - 900'000);

  drop = false;
  market = std::make_unique<test::fake_upstream>(script, port);
  REQUIRE(t.until([](const rapidjson::Document& d) { return type_of(d) == "fresh"; }, 20s));
  CHECK(std::string(test::parse(t.messages.back())["source"].GetString()) == "finnhub");
  CHECK(test::metric_value(a.get("/metrics").body,
                           R"(tickstream_edge_source_transitions_total{source="finnhub",to="stale"})") >= 1);

  // The bystander's symbol has no ticks from finnhub: it heard nothing of it.
  REQUIRE(bystander->send(R"({"type":"ping"})"));
  auto next = bystander->next(5s);
  REQUIRE(next);
  CHECK(test::type_of(*next) == "pong");
  drop = true;
}

TEST_CASE("a pub/sub message lost on the way is filled from the history before anything later", "[portfolio]") {
  auto a = user_edge();
  store_client store(a.redis.port());
  auto c = test::connect_as(a.edge->port(), "u-gap");
  CHECK(subscribe_portfolio(*c)["seq"].GetInt64() == 0);
  store.put(order_event("u-gap", "o1", "new"));
  // Seq 2 is stored as ingest would, but its PUBLISH never arrives.
  auto lost = order_event("u-gap", "o2", "new");
  lost.header.seq = 2;
  CHECK(a.redis.cli({"INCR", "ts:{u:u-gap}:seq"}) == "2\n");
  a.redis.cli({"XADD", "ts:{u:u-gap}:hist", "2-1", "e", common::encode_event(lost)});
  store.put(order_event("u-gap", "o3", "new"));
  transcript t{*c, {}};
  REQUIRE(t.until([](const rapidjson::Document& d) { return d.HasMember("seq") && d["seq"].GetInt64() == 3; }));
  CHECK(t.seqs() == std::vector<std::int64_t>{1, 2, 3});
  CHECK(t.messages[1].find(R"("orderId":"o2")") != std::string::npos);
  const auto metrics = a.get("/metrics").body;
  CHECK(test::metric_value(metrics, R"(tickstream_edge_private_stream_events_total{event="gap"})") == 1);
  // 2, and 3 too if it was stored by the time the history was read (the live 3 is then a duplicate).
  CHECK(test::metric_value(metrics, R"(tickstream_edge_private_stream_events_total{event="replayed"})") >= 1);
}

TEST_CASE("stored state that does not decode is skipped and counted, the rest still served", "[portfolio]") {
  auto a = user_edge();
  store_client store(a.redis.port());
  common::position_update p;
  p.header = test::header_for("u-bad");
  p.symbol = "MSFT";
  p.quantity = "3";
  p.entry_price = "400";
  p.side = "long";
  store.put(p);
  a.redis.cli({"HSET", "ts:{u:u-bad}:pos", "AAPL", "{not json"});
  a.redis.cli({"HSET", "ts:{u:u-bad}:orders", "o-9", R"({"type":"order_update","userId":"someone-else"})"});
  auto c = test::connect_as(a.edge->port(), "u-bad");
  auto snap = subscribe_portfolio(*c);
  REQUIRE(snap["positions"].Size() == 1);
  CHECK(std::string(snap["positions"][0]["data"]["symbol"].GetString()) == "MSFT");
  CHECK(snap["orders"].Size() == 0);
  CHECK(test::metric_value(a.get("/metrics").body,
                           R"(tickstream_edge_upstream_invalid_total{reason="bad_stored_state"})") == 1);
  // The REST answer skips and counts them the same way.
  auto rest =
      client::http_get("127.0.0.1", std::to_string(a.edge->port()), "/api/positions", 5s, {test::bearer_for("u-bad")});
  REQUIRE(rest.ok());
  CHECK(test::parse(rest->body)["positions"].Size() == 1);
  CHECK(test::metric_value(a.get("/metrics").body,
                           R"(tickstream_edge_upstream_invalid_total{reason="bad_stored_state"})") == 2);

  // Bad heartbeats on ts:sys are counted too, and change nothing.
  a.redis.cli({"PUBLISH", "ts:sys", "not json"});
  a.redis.cli({"PUBLISH", "ts:sys", R"({"type":"source_status","source":"finnhub"})"});
  REQUIRE(wait_until([&] {
    return test::metric_value(a.get("/metrics").body,
                              R"(tickstream_edge_upstream_invalid_total{reason="bad_source_status"})") == 2;
  }));
}

TEST_CASE("a Broker API fill the event stream never delivered reaches the client through reconciliation",
          "[portfolio]") {
  auto a = user_edge();
  const std::string account = "529248ad-c4cc-4a50-bea4-6bfd2953f83a";
  const std::string rest = "/v1/trading/accounts/" + account;
  // A TradeUpdateEventV2 as Alpaca documents it. The broker filled order o-1 (10 AAPL) as 4 @
  // 189.25 and 6 @ 189.50, but its event stream loses the second fill.
  const auto event = [&](const std::string& id, const std::string& kind, const std::string& status,
                         const std::string& filled, const std::string& fill) {
    return R"({"account_id":")" + account + R"(","at":"2026-11-23T14:30:0)" + id + R"(Z","event":")" + kind +
           R"(","event_id":"01JD4Q0000000000000000000)" + id + R"(",)" + fill +
           R"("order":{"id":"b-1","client_order_id":"o-1","symbol":"AAPL","side":"buy","order_type":"limit",)"
           R"("type":"limit","status":")" +
           status + R"(","qty":"10","filled_qty":")" + filled +
           R"(","submitted_at":"2026-11-23T14:30:00Z","time_in_force":"day"},"timestamp":"2026-11-23T14:30:0)" + id +
           R"(Z"})";
  };
  // base64("CK-broker:sk-broker"), worked out apart from the code under test.
  test::fake_sse_broker broker("Basic Q0stYnJva2VyOnNrLWJyb2tlcg==",
                               {{"01JD4Q00000000000000000001", event("1", "new", "new", "0", "")},
                                {"01JD4Q00000000000000000002",
                                 event("2", "partial_fill", "partially_filled", "4",
                                       R"("execution_id":"x-1","price":"189.25","qty":"4","position_qty":"4",)")}});
  // The Broker API's REST routes (TradeAccount, Position and Order as documented), first as the
  // broker had them after the partial fill: cash 100000.00 − 4 × 189.25 = 99243.00.
  const auto order = [](const std::string& status, const std::string& filled, const std::string& avg) {
    return R"({"id":"b-1","client_order_id":"o-1","created_at":"2026-11-23T14:29:59.9Z",)"
           R"("submitted_at":"2026-11-23T14:30:00Z","filled_at":null,"asset_class":"us_equity","symbol":"AAPL",)"
           R"("qty":"10","filled_qty":")" +
           filled + R"(","filled_avg_price":")" + avg +
           R"(","order_class":"","order_type":"limit","type":"limit","side":"buy","time_in_force":"day",)"
           R"("limit_price":"190","status":")" +
           status + R"("})";
  };
  const auto trade_account = [&](const std::string& cash) {
    return R"({"id":")" + account +
           R"(","account_number":"601842165","status":"ACTIVE","currency":"USD",)"
           R"("cash":")" +
           cash +
           R"(","portfolio_value":"100000","equity":"100000","last_equity":"100000",)"
           R"("buying_power":"200000","multiplier":"2","pattern_day_trader":false,"shorting_enabled":true})";
  };
  const auto position = [&](const std::string& qty, const std::string& avg) {
    return R"([{"asset_id":"b0b6dd9d-8b9b-48a9-ba46-b9d54906e415","symbol":"AAPL","exchange":"NASDAQ",)"
           R"("asset_class":"us_equity","avg_entry_price":")" +
           avg + R"(","qty":")" + qty + R"(","side":"long","market_value":"1894","cost_basis":"1894"}])";
  };
  broker.set(rest + "/account", trade_account("99243.00"));
  broker.set(rest + "/positions", position("4", "189.25"));
  broker.set(rest + "/orders?status=all&limit=500&direction=desc",
             "[" + order("partially_filled", "4", "189.25") + "]");
  broker.set(rest + "/orders?status=open&limit=500", "[" + order("partially_filled", "4", "189.25") + "]");
  a.redis.cli({"SET", "ts:broker:trades:cursor", "01JD4Q00000000000000000000"});  // before the first event
  const test::temp_file registry("tickstream-accounts");
  std::ofstream(registry.path()) << "alice account:" << account << "\n";
  const test::temp_file log("tickstream-broker-reconcile-log");
  test::child_process ingest({TICKSTREAM_INGEST_BIN, "--broker-events-url", broker.url(), "--broker-key", "CK-broker",
                              "--broker-secret", "sk-broker", "--accounts-file", registry.path(),
                              "--reconcile-interval", "1", "--redis-port", std::to_string(a.redis.port())},
                             log.path());
  // The stream's partial fill and the broker's account are stored; then the client subscribes.
  REQUIRE(wait_until(
      [&] {
        return a.redis.cli({"ZSCORE", "ts:{u:alice}:execs", "x:x-1"}) != "\n" &&
               a.redis.cli({"GET", "ts:{u:alice}:acct"}).find(R"("cash":"99243.00")") != std::string::npos;
      },
      10s));
  auto c = test::connect_as(a.edge->port(), "alice");
  auto snap = subscribe_portfolio(*c);
  REQUIRE(type_of(snap) == "snapshot");
  const auto from = snap["seq"].GetInt64();
  REQUIRE(snap["positions"].Size() == 1);
  CHECK(std::string(snap["positions"][0]["data"]["quantity"].GetString()) == "4");

  // The broker now holds both fills: cash 99243.00 − 6 × 189.50 = 98106.00; 10 at
  // (757.00 + 1137.00) / 10 = 189.40; the order filled.
  broker.set(rest + "/account", trade_account("98106.00"));
  broker.set(rest + "/positions", position("10", "189.4"));
  broker.set(rest + "/orders?status=all&limit=500&direction=desc", "[" + order("filled", "10", "189.4") + "]");
  broker.set(rest + "/orders?status=open&limit=500", "[]");
  transcript t{*c, {}};
  std::optional<rapidjson::Document> pos, acct, filled;
  REQUIRE(t.until([&](const rapidjson::Document& d) {
    if (!d.HasMember("seq")) return false;
    rapidjson::Document copy;
    copy.CopyFrom(d, copy.GetAllocator());
    if (type_of(d) == "position_update" && data_field(d, "quantity") == "10") pos = std::move(copy);
    if (type_of(d) == "account_update" && data_field(d, "cash") == "98106.00") acct = std::move(copy);
    if (type_of(d) == "order_update" && data_field(d, "status") == "filled") filled = std::move(copy);
    return pos && acct && filled;
  }));
  CHECK(data_field(*pos, "entryPrice") == "189.4");
  CHECK(std::string((*pos)["source"].GetString()) == "reconcile");
  CHECK(std::string((*acct)["source"].GetString()) == "reconcile");
  CHECK(!(*acct)["data"].HasMember("provisional"));
  CHECK(std::string((*filled)["source"].GetString()) == "reconcile");
  // Every event after the snapshot's seq, once, in order; never a resync.
  const auto seqs = t.seqs();
  REQUIRE(!seqs.empty());
  for (std::size_t i = 0; i < seqs.size(); ++i) CHECK(seqs[i] == from + 1 + static_cast<std::int64_t>(i));
  for (const auto& m : t.messages) CHECK(m.find(R"("type":"resync")") == std::string::npos);
  // Read from the Broker API with the broker's credentials, never logged.
  CHECK(broker.rest_requests(rest + "/account") >= 2);
  ingest.signal(SIGTERM);
  REQUIRE(ingest.wait(10s));
  CHECK(log.text().find("sk-broker") == std::string::npos);
  CHECK(log.text().find("Q0stYnJva2VyOnNrLWJyb2tlcg") == std::string::npos);
}
