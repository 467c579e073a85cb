// Lua scripts by EVALSHA against a real redis-server: loaded per connection, EVAL when Redis lost them.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "common/redis/lua_scripts.hpp"
#include "common/redis/redis_client.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using test::wait_until;

namespace {

const common::redis_script counter("counter", "return {redis.call('INCRBY', KEYS[1], ARGV[1]), ARGV[2]}");

common::redis_options options_for(const test::redis_server& server) {
  common::redis_options o;
  o.port = server.port();
  o.reconnect_min = std::chrono::milliseconds(20);
  o.reconnect_max = std::chrono::milliseconds(200);
  return o;
}

// How many times the server has executed EVAL (not EVALSHA) since it started.
long long eval_calls(const test::redis_server& server) {
  const auto stats = server.cli({"INFO", "commandstats"});
  const auto at = stats.find("cmdstat_eval:calls=");
  return at == std::string::npos ? 0 : std::stoll(stats.substr(at + 19));
}

// Runs the counter script once and waits for its reply: the counter's value, or -1 on an error.
long long run_counter(common::redis_client& c, const std::string& tag = "x") {
  std::atomic<long long> value{-2};
  c.eval(counter, {"n"}, {"1", tag}, [&](common::result<common::redis_reply> r) {
    value = r.ok() && r->elements.size() == 2 && r->elements[1].str == tag ? r->elements[0].integer : -1;
  });
  REQUIRE(wait_until([&] { return value.load() != -2; }));
  return value.load();
}

}  // namespace

TEST_CASE("a script's SHA1 is the one Redis computes", "[redis][script]") {
  test::redis_server server;
  CHECK(server.cli({"SCRIPT", "LOAD", std::string(counter.source())}) == counter.sha1() + "\n");
  // The embedded scripts too (a NOSCRIPT for each of them would cost an EVAL per call).
  for (const auto* s : {&common::lua_scripts::private_store(), &common::lua_scripts::private_state_read(),
                        &common::lua_scripts::lease_acquire(), &common::lua_scripts::lease_refresh()}) {
    CHECK(server.cli({"SCRIPT", "LOAD", std::string(s->source())}) == s->sha1() + "\n");
    CHECK(s->source().starts_with("-- "));  // each opens with its contract
  }
}

TEST_CASE("a script runs by EVALSHA with its keys and arguments", "[redis][script]") {
  test::redis_server server;
  common::redis_client c(options_for(server));
  c.start();
  CHECK(run_counter(c) == 1);
  CHECK(run_counter(c) == 2);
  CHECK(server.cli({"SCRIPT", "EXISTS", counter.sha1()}) == "1\n");
  CHECK(eval_calls(server) == 0);
  // A script error is a redis_error, as for any command.
  const common::redis_script broken("broken", "return redis.call('NO_SUCH_COMMAND')");
  std::atomic<int> state{0};
  c.eval(broken, {}, {},
         [&](common::result<common::redis_reply> r) { state = !r.ok() && r.err().code == "redis_error" ? 1 : 2; });
  REQUIRE(wait_until([&] { return state.load() != 0; }));
  CHECK(state.load() == 1);
}

TEST_CASE("after SCRIPT FLUSH a call still works: it falls back to EVAL, which caches the script again",
          "[redis][script]") {
  test::redis_server server;
  common::redis_client c(options_for(server));
  c.start();
  CHECK(run_counter(c) == 1);
  server.cli({"SCRIPT", "FLUSH"});
  REQUIRE(server.cli({"SCRIPT", "EXISTS", counter.sha1()}) == "0\n");
  CHECK(run_counter(c, "after flush") == 2);
  CHECK(eval_calls(server) == 1);
  CHECK(server.cli({"SCRIPT", "EXISTS", counter.sha1()}) == "1\n");
  CHECK(run_counter(c) == 3);
  CHECK(eval_calls(server) == 1);
}

TEST_CASE("calls queued while Redis restarts run after the reconnect, in order", "[redis][script]") {
  test::redis_server server;
  common::redis_client c(options_for(server));
  c.start();
  CHECK(run_counter(c) == 1);
  server.kill();
  REQUIRE(wait_until([&] { return !c.command_connected(); }));
  // The restarted Redis has no scripts: the client loads the script before sending the backlog,
  // so no call fails over to EVAL out of order.
  std::mutex mu;
  std::vector<long long> values;
  constexpr int n = 100;
  for (int i = 0; i < n; ++i) {
    c.eval(counter, {"n"}, {"1", "x"}, [&](common::result<common::redis_reply> r) {
      std::lock_guard lock(mu);
      values.push_back(r.ok() ? r->elements[0].integer : -1);
    });
  }
  server.restart();
  REQUIRE(wait_until([&] {
    std::lock_guard lock(mu);
    return values.size() == n;
  }));
  for (int i = 0; i < n; ++i) CHECK(values[static_cast<std::size_t>(i)] == i + 1);  // a fresh server: from 1
  CHECK(eval_calls(server) == 0);
}
