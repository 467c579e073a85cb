#pragma once
// A test publisher of ticks on the fixture's Redis, the way ingest publishes them.

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <string>

#include "common/clock.hpp"
#include "common/event_codec.hpp"
#include "common/redis/redis_client.hpp"
#include "common/symbol.hpp"
#include "tests/support/wait.hpp"

namespace tickstream::test {

// Publishes ticks to the fixture's Redis the way ingest does; size carries a sequence number.
class publisher {
 public:
  explicit publisher(int port) : redis_(options(port)) { redis_.start(); }

  void tick(const std::string& symbol, int seq, std::size_t padding = 0) {
    common::price_update t;
    t.symbol = symbol;
    t.price = "100.25";
    t.size = std::to_string(seq);
    t.source = padding > 0 ? std::string(std::min<std::size_t>(padding, 32), 'p') : "test";
    t.recv_time_us = common::now_us();
    t.source_time_us = t.recv_time_us;
    ++sent_;
    redis_.command({"PUBLISH", common::market_channel(symbol), common::encode_event(t)}, [this](auto) { ++done_; });
  }
  // Waits until Redis has taken every publish.
  void flush() {
    REQUIRE(wait_until([&] { return done_.load() == sent_; }));
  }

 private:
  static common::redis_options options(int port) {
    common::redis_options o;
    o.port = port;
    o.name = "test-publisher";
    return o;
  }
  common::redis_client redis_;
  int sent_ = 0;
  std::atomic<int> done_{0};
};

}  // namespace tickstream::test
