// Anonymous clients trying to make an open edge (and Redis) hold everything: each connection,
// each address and the edge as a whole are bounded, the refusals say why, and memory comes back
// once they leave.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "bench/ws_client.hpp"
#include "tests/edge/support/edge_fixture.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;

namespace {

// A process's resident memory, in KiB: "VmRSS" (all of it) or "RssAnon" (its heap and stacks,
// without the pages of its code and libraries).
long rss_kib(pid_t pid, std::string_view field = "VmRSS") {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(field) && line[field.size()] == ':') return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

struct open_edge {
  int port = test::free_port();
  test::child_process proc;
  open_edge(int redis_port, const std::string& node, std::vector<std::string> extra)
      : proc(
            [&] {
              std::vector<std::string> args{TICKSTREAM_EDGE_BIN,
                                            "--listen-host",
                                            "127.0.0.1",
                                            "--port",
                                            std::to_string(port),
                                            "--redis-port",
                                            std::to_string(redis_port),
                                            "--threads",
                                            std::to_string(test::edge_threads()),
                                            "--batch-window-ms",
                                            "0",
                                            "--node-id",
                                            node,
                                            "--max-connects-per-ip",
                                            "0",
                                            "--unsubscribe-linger-ms",
                                            "100",
                                            "--log-level",
                                            "warn"};
              args.insert(args.end(), extra.begin(), extra.end());
              return args;
            }(),
            node + ".log") {
    REQUIRE(test::wait_until([&] { return client::http_get("127.0.0.1", std::to_string(port), "/healthz", 1s).ok(); }));
  }
};

std::string subscribe_many(int conn, int n) {
  std::string out = R"({"type":"subscribe","snapshot":false,"symbols":[)";
  for (int i = 0; i < n; ++i) out += (i ? ",\"B" : "\"B") + std::to_string(conn) + "X" + std::to_string(i) + "\"";
  return out + "]}";
}

std::size_t market_channels(test::redis_server& redis) {
  std::istringstream list(redis.cli({"PUBSUB", "CHANNELS", "ts:{md:*"}));
  std::size_t n = 0;
  for (std::string line; std::getline(list, line);) n += line.empty() ? 0 : 1;
  return n;
}

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Under AddressSanitizer freed memory waits in its quarantine and malloc_trim has nothing to give
// back: the edge's memory is measured in the optimized build only (the bounds everywhere).
// (GCC says so with __SANITIZE_ADDRESS__, clang 14 with __has_feature.)
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TICKSTREAM_TEST_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(TICKSTREAM_TEST_UNDER_ASAN)
constexpr bool memory_measured = false;
#else
constexpr bool memory_measured = true;
#endif

}  // namespace

TEST_CASE("a subscribe bomb from anonymous clients is refused at the bounds and its memory comes back",
          "[faults][abuse]") {
  test::redis_server redis;
  // The defaults: 100 symbols per anonymous connection, 5,000 per address.
  open_edge edge(redis.port(), "bomb-edge", {});
  const auto cold = rss_kib(edge.proc.pid());
  // 200 connections asking for 1,000 symbols each; returns what they were granted and refused.
  const auto bomb = [&](long& peak) {
    std::vector<std::unique_ptr<client::ws_client>> bombers;
    std::pair<int, int> out{0, 0};
    for (int c = 0; c < 200; ++c) {
      auto ws = client::ws_client::connect({"127.0.0.1", std::to_string(edge.port), "/ws"}, 5s);
      REQUIRE(ws.ok());
      REQUIRE(ws.value()->send(subscribe_many(c, 1000)));
      auto reply = ws.value()->next(10s);
      REQUIRE(reply);
      const auto d = test::parse(*reply);
      REQUIRE(d["type"].GetString() == std::string("subscribed"));
      out.first += static_cast<int>(d["symbols"].Size());
      out.second += count_of(*reply, R"("code":"too_many_subscriptions")");
      bombers.push_back(std::move(ws).value());
    }
    CHECK(market_channels(redis) == 5000);
    peak = rss_kib(edge.proc.pid());
    bombers.clear();  // everyone leaves
    REQUIRE(test::wait_until([&] { return market_channels(redis) == 0; }, 20s));
    return out;
  };
  long first_peak = 0, second_peak = 0;
  const auto first = bomb(first_peak);
  CHECK(first.first == 5000);  // 50 connections x 100, then the address is full
  CHECK(first.second == 200 * 1000 - 5000);
  const auto metrics = client::http_get("127.0.0.1", std::to_string(edge.port), "/metrics", 5s).value().body;
  CHECK(metrics.find(R"(tickstream_edge_client_errors_total{code="too_many_subscriptions"} 195000)") !=
        std::string::npos);
  // After the first round the edge has the pages of its code and its tables' capacity; a second
  // round must leave it where the first did: what a bomb makes it hold goes away with the bomb.
  // Judged against what the bomb added (4-5 MiB), not against the edge's size: between rounds the
  // heap in use moves within 1.5-2.7 MB without growing (12 rounds in a row, malloc_stats after
  // each), so "within a tenth of the baseline" failed now and then with nothing held. A bomb
  // whose memory stayed would leave most of its 4-5 MiB.
  if (memory_measured) REQUIRE(test::wait_until([&] { return rss_kib(edge.proc.pid()) < first_peak; }, 20s));
  const auto baseline = rss_kib(edge.proc.pid());
  const auto second = bomb(second_peak);
  CHECK(second == first);
  const auto kept_at_most = baseline + (second_peak - baseline) / 3;
  const bool returned =
      !memory_measured || test::wait_until([&] { return rss_kib(edge.proc.pid()) <= kept_at_most; }, 20s);
  const auto after = rss_kib(edge.proc.pid());
  INFO("edge RSS: " << cold << " KiB cold, " << first_peak << " KiB under the first bomb, " << baseline
                    << " KiB after it, " << second_peak << " KiB under the second, " << after << " KiB after it");
  REQUIRE(returned);
  WARN("edge RSS: " << cold << " KiB cold, " << first_peak << " KiB under the first bomb, " << baseline
                    << " KiB after it, " << second_peak << " KiB under the second, " << after << " KiB after it");
  // A new client is served as before.
  auto late = client::ws_client::connect({"127.0.0.1", std::to_string(edge.port), "/ws"}, 5s);
  REQUIRE(late.ok());
  REQUIRE(late.value()->send(subscribe_many(999, 3)));
  auto reply = late.value()->next(5s);
  REQUIRE(reply);
  CHECK(test::parse(*reply)["symbols"].Size() == 3);
}

TEST_CASE("an edge holds at most --max-channels channels, and held ones are still served", "[faults][abuse]") {
  test::redis_server redis;
  open_edge edge(redis.port(), "channels-edge",
                 {"--max-channels", "250", "--max-subscriptions-per-address", "0", "--threads", "1"});
  int accepted = 0, refused = 0;
  std::vector<std::unique_ptr<client::ws_client>> clients;
  for (int c = 0; c < 4; ++c) {
    auto ws = client::ws_client::connect({"127.0.0.1", std::to_string(edge.port), "/ws"}, 5s);
    REQUIRE(ws.ok());
    REQUIRE(ws.value()->send(subscribe_many(c, 100)));
    auto reply = ws.value()->next(10s);
    REQUIRE(reply);
    accepted += static_cast<int>(test::parse(*reply)["symbols"].Size());
    refused += count_of(*reply, R"("code":"too_many_channels")");
    clients.push_back(std::move(ws).value());
  }
  CHECK(accepted == 250);
  CHECK(refused == 150);
  // A symbol the edge already holds needs no new channel: still granted at the cap.
  auto late = client::ws_client::connect({"127.0.0.1", std::to_string(edge.port), "/ws"}, 5s);
  REQUIRE(late.ok());
  REQUIRE(late.value()->send(R"({"type":"subscribe","snapshot":false,"symbols":["B0X0"]})"));
  auto reply = late.value()->next(5s);
  REQUIRE(reply);
  CHECK(test::parse(*reply)["symbols"].Size() == 1);
}
