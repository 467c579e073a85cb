// The Broker API's trade events stream end to end: a real ingest and redis-server, the broker a
// fake Server-Sent Events upstream on loopback serving Alpaca's documented event shape. An
// ingest killed in the middle of the stream and started again resumes from the cursor it kept in
// Redis: every event reaches its user's stream once, in order, nothing lost.
#include <catch2/catch.hpp>

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/fake_sse_broker.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_file.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::wait_until;

namespace {

const std::string alice_account = "529248ad-c4cc-4a50-bea4-6bfd2953f83a";
const std::string bob_account = "7d2c1e0a-0b1c-4d5e-8f90-123456789abc";
const std::string foreign_account = "ffffffff-0000-4000-8000-000000000000";
// base64("CK-broker-4b1d:sk-broker-93e0"), worked out apart from the code under test.
const std::string basic_auth = "Basic Q0stYnJva2VyLTRiMWQ6c2stYnJva2VyLTkzZTA=";

struct fill {
  std::string execution_id, price, qty, position_qty;
};

// A TradeUpdateEventV2 as Alpaca documents it (the fields ingest reads, and a few it does not).
std::string trade_event(const std::string& id, const std::string& account, const std::string& event,
                        const std::string& order, const std::string& symbol, const std::string& side,
                        const std::string& status, const std::string& qty, const std::string& filled,
                        const std::string& at, const std::optional<fill>& f = std::nullopt) {
  std::string s = R"({"account_id":")" + account + R"(","at":")" + at + R"(","event":")" + event + R"(","event_id":")" +
                  id + R"(",)";
  if (f) {
    s += R"("execution_id":")" + f->execution_id + R"(","price":")" + f->price + R"(","qty":")" + f->qty +
         R"(","position_qty":")" + f->position_qty + R"(",)";
  }
  // The order on a line of its own: sent as a second data line, joined by the reader.
  s += "\n"
       R"("order":{"asset_class":"us_equity","id":"b-)" +
       order + R"(","client_order_id":")" + order + R"(","symbol":")" + symbol + R"(","side":")" + side +
       R"(","order_type":"limit","type":"limit","status":")" + status + R"(","qty":")" + qty + R"(","filled_qty":")" +
       filled + R"(","submitted_at":"2026-11-23T14:30:00Z",)" + R"("time_in_force":"day"},"timestamp":")" + at +
       R"("})";
  return s;
}

std::string id(int i) { return "01JD4Q0000000000000000000" + std::string(1, static_cast<char>('A' + i)); }

std::vector<test::fake_sse_broker::event> stream() {
  return {
      {id(0), trade_event(id(0), alice_account, "new", "o-1", "AAPL", "buy", "new", "10", "0", "2026-11-23T14:30:00Z")},
      {id(1), trade_event(id(1), bob_account, "new", "o-3", "MSFT", "buy", "new", "2", "0", "2026-11-23T14:30:01Z")},
      {id(2), trade_event(id(2), alice_account, "partial_fill", "o-1", "AAPL", "buy", "partially_filled", "10", "4",
                          "2026-11-23T14:30:02Z", fill{"x-1", "189.25", "4", "4"})},
      {id(3),
       trade_event(id(3), foreign_account, "new", "o-9", "TSLA", "buy", "new", "1", "0", "2026-11-23T14:30:03Z")},
      {id(4), R"({"account_id":")" + alice_account + R"(","event":"fill","order":{broken)"},  // bad data
      {id(5), trade_event(id(5), bob_account, "fill", "o-3", "MSFT", "buy", "filled", "2", "2", "2026-11-23T14:30:05Z",
                          fill{"x-3", "400.10", "2", "2"})},
      // The stream is held here on the first connection: the ingest is killed.
      {id(6), trade_event(id(6), alice_account, "fill", "o-1", "AAPL", "buy", "filled", "10", "10",
                          "2026-11-23T14:30:06Z", fill{"x-2", "189.50", "6", "10"})},
      {id(7), trade_event(id(7), alice_account, "new", "o-2", "AAPL", "sell", "new", "5", "0", "2026-11-23T14:30:07Z")},
      {id(8), trade_event(id(8), alice_account, "fill", "o-2", "AAPL", "sell", "filled", "5", "5",
                          "2026-11-23T14:30:08Z", fill{"x-4", "190.00", "5", "5"})},
  };
}

// A user's stored history in seq order, one "type key" per event (checking the seqs run 1..n).
std::vector<std::string> history(const test::redis_server& redis, const std::string& user) {
  const auto text = redis.cli({"XRANGE", "ts:{u:" + user + "}:hist", "-", "+"});
  std::vector<std::string> out;
  std::size_t at = 0;
  const auto field = [](const std::string& json, const std::string& name) {
    const auto k = json.find("\"" + name + "\":\"");
    if (k == std::string::npos) return std::string();
    const auto from = k + name.size() + 4;
    return json.substr(from, json.find('"', from) - from);
  };
  while ((at = text.find("{\"type\":", at)) != std::string::npos) {
    const auto end = text.find('\n', at);
    const auto json = text.substr(at, end - at);
    at = end;
    const auto seq_at = json.find("\"seq\":");
    const auto seq = std::stoll(json.substr(seq_at + 6));
    CHECK(seq == static_cast<long long>(out.size()) + 1);
    const auto type = field(json, "type");
    std::string key = type == "order_update"     ? field(json, "orderId") + " " + field(json, "status")
                      : type == "trade_executed" ? field(json, "executionId")
                                                 : field(json, "symbol") + " " + field(json, "quantity");
    out.push_back(type + " " + key);
  }
  return out;
}

}  // namespace

TEST_CASE("an ingest killed in the middle of the broker's event stream resumes where it left off, nothing twice",
          "[broker-events]") {
  test::redis_server redis;
  test::fake_sse_broker broker(basic_auth, stream());
  broker.hold_after(6);
  const test::temp_file registry("tickstream-accounts");
  std::ofstream(registry.path()) << "alice account:" << alice_account << "\nbob account:" << bob_account << "\n";
  const test::temp_file log("tickstream-broker-events-log");
  const std::vector<std::string> args{
      TICKSTREAM_INGEST_BIN,       "--broker-events-url", broker.url(),      "--broker-key",  "CK-broker-4b1d",
      "--broker-secret",           "sk-broker-93e0",      "--accounts-file", registry.path(), "--redis-port",
      std::to_string(redis.port())};
  const std::string cursor_key = "ts:broker:trades:cursor";
  // The first run has no cursor: it asks for live events only... so the test gives it one, as if
  // it had run before: just before the first event.
  redis.cli({"SET", cursor_key, "01JD4Q00000000000000000000"});
  {
    test::child_process ingest(args, log.path());
    const auto seq = [&](const char* user) { return redis.cli({"GET", std::string("ts:{u:") + user + "}:seq"}); };
    REQUIRE(wait_until([&] { return seq("alice") == "4\n" && seq("bob") == "4\n"; }, 10s));
    REQUIRE(wait_until([&] { return redis.cli({"GET", cursor_key}) != "01JD4Q00000000000000000000\n"; }, 10s));
    ingest.signal(SIGKILL);
    REQUIRE(ingest.wait(5s));
  }
  const auto kept = redis.cli({"GET", cursor_key});
  INFO("cursor kept at the kill: " << kept);
  broker.release();
  test::child_process ingest(args, log.path());
  REQUIRE(wait_until([&] { return redis.cli({"GET", cursor_key}) == id(8) + "\n"; }, 10s));

  // The second connection asked for what followed the kept cursor.
  const auto targets = broker.targets();
  REQUIRE(targets.size() == 2);
  CHECK(targets[0] == "/v2/events/trades?since_id=01JD4Q00000000000000000000");
  CHECK(targets[1] == "/v2/events/trades?since_id=" + kept.substr(0, kept.size() - 1));

  // Every event once, in the broker's order, with consecutive seqs.
  CHECK(history(redis, "alice") == std::vector<std::string>{
                                       "order_update o-1 new",
                                       "order_update o-1 partially_filled",
                                       "trade_executed x-1",
                                       "position_update AAPL 4",
                                       "order_update o-1 filled",
                                       "trade_executed x-2",
                                       "position_update AAPL 10",
                                       "order_update o-2 new",
                                       "order_update o-2 filled",
                                       "trade_executed x-4",
                                       "position_update AAPL 5",
                                   });
  CHECK(history(redis, "bob") == std::vector<std::string>{
                                     "order_update o-3 new",
                                     "order_update o-3 filled",
                                     "trade_executed x-3",
                                     "position_update MSFT 2",
                                 });
  // Alice bought 4 @ 189.25 and 6 @ 189.50: average (757.00 + 1137.00) / 10 = 189.40; she sold 5
  // @ 190.00: realized 5 × (190.00 − 189.40) = 3.00, 5 left at 189.40.
  const auto aapl = redis.cli({"HGET", "ts:{u:alice}:pos", "AAPL"});
  CHECK(aapl.find(R"("quantity":"5")") != std::string::npos);
  CHECK(aapl.find(R"("entryPrice":"189.4")") != std::string::npos);
  CHECK(aapl.find(R"("realizedPnl":"3.00")") != std::string::npos);
  CHECK(aapl.find(R"("source":"alpaca-broker")") != std::string::npos);
  // The other application's account is not ours: nothing stored for anyone.
  CHECK(redis.cli({"KEYS", "ts:{u:*}:seq"}).find("ffffffff") == std::string::npos);
  // The bad event was counted and set aside, and the events after it delivered.
  CHECK(redis.cli({"XLEN", "ts:dead"}) != "0\n");
  CHECK(log.text().find("skipping bad input") != std::string::npos);
  ingest.signal(SIGTERM);
  const auto status = ingest.wait(10s);
  REQUIRE(status);
  CHECK(*status == 0);
  // Credentials are never logged.
  CHECK(log.text().find("sk-broker-93e0") == std::string::npos);
  CHECK(log.text().find("Q0stYnJva2VyLTRiMWQ6c2stYnJva2VyLTkzZTA") == std::string::npos);
}

TEST_CASE("a broker event stream that refuses the credentials is retried with backoff", "[broker-events]") {
  test::redis_server redis;
  test::fake_sse_broker broker(basic_auth, stream());
  const test::temp_file registry("tickstream-accounts");
  std::ofstream(registry.path()) << "alice account:" << alice_account << "\n";
  const test::temp_file log("tickstream-broker-events-log");
  test::child_process ingest(
      {TICKSTREAM_INGEST_BIN, "--broker-events-url", broker.url(), "--broker-key", "wrong", "--broker-secret", "wrong",
       "--accounts-file", registry.path(), "--redis-port", std::to_string(redis.port())},
      log.path());
  REQUIRE(wait_until([&] { return broker.targets().size() >= 2; }, 10s));
  CHECK(broker.targets()[0] == "/v2/events/trades");  // no cursor yet: live events only
  CHECK(log.text().find("HTTP 401") != std::string::npos);
  CHECK(redis.cli({"EXISTS", "ts:{u:alice}:seq"}) == "0\n");
  ingest.signal(SIGTERM);
  const auto status = ingest.wait(10s);
  REQUIRE(status);
  CHECK(*status == 0);
}

TEST_CASE("an ingest killed while broker events are in flight stores each once, in order, after its restart",
          "[broker-events]") {
  test::redis_server redis;
  // 120 events, alternating between two users, sent without pause: the kill lands while events
  // are read, queued and stored.
  std::vector<test::fake_sse_broker::event> events;
  std::vector<std::string> alice, bob;
  for (int i = 0; i < 120; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "01JD4R%020d", i);
    const bool to_alice = i % 2 == 0;
    const auto order = "o-" + std::to_string(i);
    events.push_back({id, trade_event(id, to_alice ? alice_account : bob_account, "new", order, "AAPL", "buy", "new",
                                      "1", "0", "2026-11-23T14:30:00Z")});
    (to_alice ? alice : bob).push_back("order_update " + order + " new");
  }
  test::fake_sse_broker broker(basic_auth, events);
  broker.overlap = 5;
  const test::temp_file registry("tickstream-accounts");
  std::ofstream(registry.path()) << "alice account:" << alice_account << "\nbob account:" << bob_account << "\n";
  const std::vector<std::string> args{
      TICKSTREAM_INGEST_BIN,       "--broker-events-url", broker.url(),      "--broker-key",  "CK-broker-4b1d",
      "--broker-secret",           "sk-broker-93e0",      "--accounts-file", registry.path(), "--redis-port",
      std::to_string(redis.port())};
  const std::string cursor_key = "ts:broker:trades:cursor";
  redis.cli({"SET", cursor_key, "01JD4Q00000000000000000000"});  // before the first event
  {
    test::child_process ingest(args);
    REQUIRE(wait_until([&] { return std::atoll(redis.cli({"GET", "ts:{u:alice}:seq"}).c_str()) >= 20; }, 10s));
    ingest.signal(SIGKILL);
    REQUIRE(ingest.wait(5s));
  }
  INFO("killed with " << redis.cli({"GET", "ts:{u:alice}:seq"}) << " stored for alice, cursor "
                      << redis.cli({"GET", cursor_key}));
  test::child_process ingest(args);
  REQUIRE(wait_until([&] { return redis.cli({"GET", cursor_key}) == events.back().id + "\n"; }, 10s));
  CHECK(history(redis, "alice") == alice);
  CHECK(history(redis, "bob") == bob);
  ingest.signal(SIGTERM);
  REQUIRE(ingest.wait(10s));
}

TEST_CASE("a Broker API account is reconciled when the event stream reconnects", "[broker-events]") {
  test::redis_server redis;
  test::fake_sse_broker broker(basic_auth, {});  // a quiet stream: heartbeats only
  const std::string rest = "/v1/trading/accounts/" + alice_account;
  // The Broker API's TradeAccount, Position and Order as documented.
  const auto account = [&](const std::string& cash) {
    return R"({"id":")" + alice_account +
           R"(","account_number":"601842165","status":"ACTIVE","currency":"USD",)"
           R"("cash":")" +
           cash +
           R"(","portfolio_value":"100000","equity":"100000","last_equity":"100000",)"
           R"("buying_power":"200000","multiplier":"2"})";
  };
  broker.set(rest + "/account", account("100000.00"));
  broker.set(rest + "/positions", "[]");
  broker.set(rest + "/orders?status=all&limit=500&direction=desc", "[]");
  broker.set(rest + "/orders?status=open&limit=500", "[]");
  const test::temp_file registry("tickstream-accounts");
  std::ofstream(registry.path()) << "alice account:" << alice_account << "\n";
  // An interval no test waits for (alice's first periodic reconciliation would come after ~20
  // minutes): only the start and a reconnect reconcile here.
  test::child_process ingest({TICKSTREAM_INGEST_BIN, "--broker-events-url", broker.url(), "--broker-key",
                              "CK-broker-4b1d", "--broker-secret", "sk-broker-93e0", "--accounts-file", registry.path(),
                              "--reconcile-interval", "3600", "--redis-port", std::to_string(redis.port())});
  const auto stored = [&] { return redis.cli({"GET", "ts:{u:alice}:acct"}); };
  REQUIRE(wait_until([&] { return stored().find(R"("cash":"100000.00")") != std::string::npos; }, 10s));
  REQUIRE(wait_until([&] { return broker.targets().size() == 1; }, 10s));
  // Meanwhile the broker filled 10 AAPL @ 189.40 the stream never delivered: cash
  // 100000.00 − 1894.00 = 98106.00.
  broker.set(rest + "/account", account("98106.00"));
  broker.set(rest + "/positions", R"([{"asset_id":"b0b6dd9d-8b9b-48a9-ba46-b9d54906e415","symbol":"AAPL",)"
                                  R"("exchange":"NASDAQ","asset_class":"us_equity","avg_entry_price":"189.4",)"
                                  R"("qty":"10","side":"long","market_value":"1894","cost_basis":"1894"}])");
  broker.drop_streams();
  REQUIRE(wait_until([&] { return broker.targets().size() == 2; }, 10s));  // reconnected
  REQUIRE(wait_until([&] { return stored().find(R"("cash":"98106.00")") != std::string::npos; }, 10s));
  const auto position = redis.cli({"HGET", "ts:{u:alice}:pos", "AAPL"});
  CHECK(position.find(R"("quantity":"10")") != std::string::npos);
  CHECK(position.find(R"("entryPrice":"189.4")") != std::string::npos);
  CHECK(position.find(R"("source":"reconcile")") != std::string::npos);
  // Consecutive seqs: the opening account, the position, the account.
  CHECK(redis.cli({"GET", "ts:{u:alice}:seq"}) == "3\n");
  CHECK(redis.cli({"XLEN", "ts:{u:alice}:hist"}) == "3\n");
  ingest.signal(SIGTERM);
  REQUIRE(ingest.wait(10s));
}
