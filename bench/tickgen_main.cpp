// tickstream-tickgen: publishes synthetic ticks to Redis at a fixed rate, the way ingest does
// (normalized price_update, recv_us = publish time), for benchmarks. Bounded by --duration.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "common/config_parser.hpp"
#include "common/event_codec.hpp"
#include "common/redis/keys.hpp"
#include "common/redis/redis_client.hpp"

namespace {

// Cents as a decimal price ("100.25", "-0.07"): money stays decimal.
std::string cents_text(std::int64_t cents) {
  const auto sign = cents < 0 ? "-" : "";
  const auto abs = cents < 0 ? -cents : cents;
  const auto frac = abs % 100;
  return sign + std::to_string(abs / 100) + (frac < 10 ? ".0" : ".") + std::to_string(frac);
}

}  // namespace

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
  bool walk = false;
  p.add_bool("walk", "", walk,
             "Each symbol's price walks a cent or two per tick, with random sizes and a growing volume, like a "
             "live feed (default: every tick carries the same figures, only its times differ).");
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

  // --walk: each symbol's price in cents, and its volume.
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::int64_t> step(-2, 2);
  std::uniform_int_distribution<std::int64_t> spread(1, 3);
  std::uniform_int_distribution<std::int64_t> lots(1, 20);
  std::vector<std::int64_t> prices(walk ? static_cast<std::size_t>(symbol_count) : 0, 10'025);
  std::vector<std::int64_t> volume(prices.size(), 1'234'567);

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
      if (walk) {
        auto& price = prices[idx];
        price += step(rng);
        const auto size = 100 * lots(rng);
        volume[idx] += size;
        t.price = cents_text(price);
        t.bid = cents_text(price - spread(rng));
        t.ask = cents_text(price + spread(rng));
        t.bid_size = std::to_string(100 * lots(rng));
        t.ask_size = std::to_string(100 * lots(rng));
        t.size = std::to_string(size);
        t.volume = std::to_string(volume[idx]);
        t.change = cents_text(price - 10'000);
        t.change_percent = cents_text(price - 10'000);  // against 100.00: the change is the percentage
      }
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
