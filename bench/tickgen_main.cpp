// tickstream-tickgen: publishes synthetic ticks to Redis at a fixed rate, the way ingest does
// (normalized price_update, recv_us = publish time), for benchmarks. Bounded by --duration.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "common/clock.hpp"
#include "common/config_parser.hpp"
#include "common/event_codec.hpp"
#include "common/redis/keys.hpp"
#include "common/redis/redis_client.hpp"

int main(int argc, char** argv) {
  using namespace tickstream;
  std::string redis_host = "127.0.0.1";
  std::int64_t redis_port = 6379;
  std::int64_t rate = 100;
  std::string prefix = "SYM";
  std::int64_t symbol_count = 1;
  std::int64_t duration_s = 10;
  common::config_parser p("tickstream-tickgen", "Publishes synthetic ticks at a fixed rate (for benchmarks).");
  std::string redis_password;
  common::redis_access access;
  p.add_redis(redis_host, redis_port, redis_password);
  p.add_redis_access(redis_host, redis_port, redis_password, access);  // --redis-url: one Redis or a cluster
  p.add_int("rate", "", rate, 1, 10'000'000, "Ticks per second in total.");
  p.add_string("prefix", "", prefix, "Symbols are <prefix>0 .. <prefix>N-1, published round-robin.");
  p.add_int("symbol-count", "", symbol_count, 1, 1'000'000, "N, the number of symbols.");
  p.add_int("duration", "", duration_s, 1, 3600, "Seconds to publish.");
  p.parse_or_exit(argc, argv);

  common::redis_options ro;
  ro.host = redis_host;
  ro.port = static_cast<int>(redis_port);
  ro.password = redis_password;
  common::apply_redis_access(ro, access);
  ro.name = "tickgen";
  common::redis_client redis(ro);
  redis.start();

  std::vector<std::string> channels;
  for (std::int64_t i = 0; i < symbol_count; ++i)
    channels.push_back(common::market_channel(prefix + std::to_string(i)));
  common::price_update t;
  t.price = "100.25";
  t.bid = "100.24";
  t.ask = "100.26";
  t.bid_size = "300";
  t.ask_size = "500";
  t.size = "100";
  t.volume = "1234567";
  t.change = "0.25";
  t.change_percent = "0.25";
  t.source = "tickgen";

  // Publish in 1 ms slices: each slice sends what the rate owes by then, so the average rate is
  // exact and bursts are at most one millisecond's worth.
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::seconds(duration_s);
  std::int64_t sent = 0;
  std::atomic<std::int64_t> done{0};
  for (auto now = start; now < end; now = std::chrono::steady_clock::now()) {
    const auto owed =
        static_cast<std::int64_t>(std::chrono::duration<double>(now - start).count() * static_cast<double>(rate));
    for (; sent < owed && sent - done.load() < 100'000; ++sent) {  // bounded in flight
      const auto idx = static_cast<std::size_t>(sent % symbol_count);
      t.symbol = prefix + std::to_string(idx);
      t.recv_time_us = common::now_us();
      t.source_time_us = t.recv_time_us - 1000;
      redis.command({"PUBLISH", channels[idx], common::encode_event(t)}, [&done](auto) { ++done; });
    }
    std::this_thread::sleep_until(now + std::chrono::milliseconds(1));
  }
  while (done.load() < sent) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  redis.stop();
  std::printf("published %lld ticks in %lld s (%lld/s)\n", static_cast<long long>(sent),
              static_cast<long long>(duration_s), static_cast<long long>(sent / duration_s));
  return 0;
}
