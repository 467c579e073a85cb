// Many broker accounts on one ingest: each account's trading stream runs side by side, so one
// account's refused credentials or hanging upstream never holds up the others.
#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/fake_upstream.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_file.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::wait_until;

namespace {

// The API key of a user's account (its secret is the same text, in the same file).
std::string key_of(const std::string& user) { return "PK-" + user + "-7f3a"; }

// An Alpaca trading stream for one account: checks the key, then sends one new order.
test::fake_upstream::script broker(const std::string& user, const std::atomic<bool>& finished) {
  return [user, key = key_of(user), &finished](test::upstream_connection& ws, int) {
    const auto auth = ws.read_text();
    ws.text(true);
    if (user == "hang") {  // an upstream that never answers
      while (!finished) std::this_thread::sleep_for(10ms);
      return;
    }
    if (auth.find("\"key\":\"" + key + "\"") == std::string::npos || user == "refused") {
      ws.write(R"({"stream":"authorization","data":{"status":"unauthorized"}})");
      return;
    }
    ws.write(R"({"stream":"authorization","data":{"status":"authorized"}})");
    ws.read_text();  // listen
    ws.write(R"({"stream":"listening","data":{"streams":["trade_updates"]}})");
    ws.write(R"({"stream":"trade_updates","data":{"event":"new","timestamp":"2026-11-23T14:30:00Z","order":)"
             R"({"id":"b-)" +
             user +
             R"(","client_order_id":"o-1","symbol":"AAPL","side":"buy","type":"limit",)"
             R"("status":"new","qty":"1","submitted_at":"2026-11-23T14:30:00Z"}}})");
    while (!finished) std::this_thread::sleep_for(10ms);
  };
}

}  // namespace

TEST_CASE("accounts from the registry stream side by side, one refused and one hanging never stall the others",
          "[accounts]") {
  test::redis_server redis;
  std::atomic<bool> finished{false};
  struct finish {
    std::atomic<bool>& f;
    ~finish() { f = true; }
  };
  // One upstream per account (each its own URL in the registry).
  const std::vector<std::string> users{"alice", "bob", "refused", "hang", "carol"};
  std::vector<std::unique_ptr<test::fake_upstream>> upstreams;
  std::vector<std::unique_ptr<test::temp_file>> keys;
  const test::temp_file registry("tickstream-accounts");
  {
    std::ofstream out(registry.path());
    out << "# user  key  secret  stream\n";
    for (const auto& u : users) {
      upstreams.push_back(std::make_unique<test::fake_upstream>(broker(u, finished)));
      keys.push_back(std::make_unique<test::temp_file>("tickstream-key"));
      std::ofstream(keys.back()->path()) << key_of(u) << "\n";
      out << u << " file:" << keys.back()->path() << " file:" << keys.back()->path() << " "
          << upstreams.back()->url("/stream") << "\n";
    }
    out << "nokey env:TICKSTREAM_TEST_SURELY_UNSET_KEY file:" << keys.back()->path() << "\n";
  }
  const test::temp_file log("tickstream-accounts-log");
  finish stop_upstreams{finished};  // destroyed before the upstreams: their scripts return
  test::child_process ingest(
      {TICKSTREAM_INGEST_BIN, "--alpaca-trading-url", upstreams[0]->url("/unused"), "--accounts-file", registry.path(),
       "--redis-port", std::to_string(redis.port()), "--heartbeat-ms", "200"},
      log.path());
  // Every good account's order is stored for its own user.
  for (const auto* u : {"alice", "bob", "carol"}) {
    INFO(u);
    CHECK(wait_until([&] { return redis.cli({"GET", std::string("ts:{u:") + u + "}:seq"}) == "1\n"; }, 10s));
    CHECK(redis.cli({"HGET", std::string("ts:{u:") + u + "}:orders", "o-1"}).find("\"userId\":\"" + std::string(u)) !=
          std::string::npos);
  }
  CHECK(redis.cli({"EXISTS", "ts:{u:refused}:seq"}) == "0\n");
  CHECK(redis.cli({"EXISTS", "ts:{u:hang}:seq"}) == "0\n");
  // The account without credentials is left out with a reason that names the reference only.
  REQUIRE(wait_until([&] { return log.text().find("broker account left out") != std::string::npos; }));
  CHECK(log.text().find("env:TICKSTREAM_TEST_SURELY_UNSET_KEY is not set or empty") != std::string::npos);
  CHECK(log.text().find("streamed_here=5") != std::string::npos);
  ingest.signal(SIGTERM);
  const auto status = ingest.wait(10s);
  REQUIRE(status);
  CHECK(*status == 0);
  // No credential in the log.
  for (const auto& u : users) CHECK(log.text().find(key_of(u)) == std::string::npos);
}
