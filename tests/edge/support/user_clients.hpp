#pragma once
// Shared by the tests that need authenticated users on more than one edge: HS256 tokens, a second
// edge as a real tickstream-edge process, and reading a user's stream frame by frame.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "bench/ws_client.hpp"
#include "common/clock.hpp"
#include "common/event.hpp"
#include "tests/edge/support/edge_threads.hpp"
#include "tests/edge/support/jwt_test_tokens.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/wait.hpp"

namespace tickstream::test {

using namespace std::chrono_literals;

inline const std::string user_secret = "an-hs256-secret-of-at-least-32-bytes!";

// The Authorization header of a 10-minute HS256 token for user.
inline std::pair<std::string, std::string> bearer_for(const std::string& user) {
  const auto t =
      token("HS256", R"({"sub":")" + user + R"(","exp":)" + std::to_string(common::now_us() / 1'000'000 + 600) + "}",
            [](std::string_view in) { return hmac(user_secret, in); });
  return {"Authorization", "Bearer " + t};
}

inline std::unique_ptr<client::ws_client> connect_as(int port, const std::string& user) {
  auto c = client::ws_client::connect({"127.0.0.1", std::to_string(port), "/ws"}, 5s, {bearer_for(user)});
  REQUIRE(c.ok());
  return std::move(c).value();
}

// A tickstream-edge process on a free port (HS256 users, batching off, two workers).
struct edge_process {
  int port = free_port();
  child_process proc;
  // Logs go to <node>.log in the test's working directory.
  edge_process(int redis_port, const std::string& node, std::vector<std::string> extra = {})
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
                                            std::to_string(edge_threads()),
                                            "--batch-window-ms",
                                            "0",
                                            "--jwt-algorithms",
                                            "HS256",
                                            "--jwt-hs-secret",
                                            user_secret,
                                            "--node-id",
                                            node,
                                            "--max-connects-per-ip",
                                            "0"};
              args.insert(args.end(), extra.begin(), extra.end());
              return args;
            }(),
            node + ".log") {
    REQUIRE(wait_until([&] { return client::http_get("127.0.0.1", std::to_string(port), "/healthz", 1s).ok(); }));
  }
};

inline common::private_header header_for(const std::string& user, const std::string& source = "test") {
  common::private_header h;
  h.user_id = user;
  h.time_us = common::now_us();
  h.recv_time_us = h.time_us;
  h.source = source;
  return h;
}

}  // namespace tickstream::test
