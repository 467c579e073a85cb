#include "ingest/app.hpp"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>

#include "common/clock.hpp"
#include "common/event_codec.hpp"
#include "common/log.hpp"
#include "common/redis_client.hpp"
#include "ingest/capture_reader.hpp"
#include "ingest/source_normalizers.hpp"
#include "ingest/event_publisher.hpp"

namespace tickstream::ingest {

void app_config::bind(common::config_parser& p) {
  p.add_string("redis-host", "TS_REDIS_HOST", redis_host, "Redis host name or address.");
  p.add_int("redis-port", "TS_REDIS_PORT", redis_port, 1, 65535, "Redis TCP port.");
  p.add_secret("redis-password", "TS_REDIS_PASSWORD", redis_password, "Redis AUTH password (empty: none).");
  p.add_string("input", "TS_INPUT", input, "JSONL capture to replay, or '-' for standard input.");
  p.require("input");
  p.add_custom(
      "speed", "TS_SPEED",
      [this](std::string_view v) -> std::optional<std::string> {
        auto s = replay_speed::parse(v);
        if (!s) return "must be a positive number (1 = real time, 10 = ten times faster) or 'max'";
        speed = *s;
        return std::nullopt;
      },
      [this] { return speed.max ? std::string("max") : std::to_string(speed.factor); },
      "Replay speed: 1 = the capture's own pace, 10 = ten times faster, max = as fast as Redis takes it.");
  p.add_bool("loop", "TS_LOOP", loop, "Replay the file again from the start when it ends.");
  p.add_int("max-in-flight", "TS_MAX_IN_FLIGHT", max_in_flight, 1, 10'000'000,
            "Ticks queued or awaiting Redis before reading pauses (bounds memory at --speed max).");
  p.add_string("trading-user", "TS_TRADING_USER", trading_user,
               "User id that the Alpaca trading stream's broker account belongs to (empty: none).");
  p.add_int("history-len", "TS_HISTORY_LEN", history_len, 10, 10'000'000,
            "Private events kept per user in the history stream (for gap-free resume).");
  p.add_string("metrics-listen", "TS_METRICS_LISTEN", metrics_listen,
               "host:port to serve Prometheus /metrics on (empty: off).");
  p.add_log_level(log_level);
}

app::app(app_config config) : config_(std::move(config)) {}

void app::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_.store(true);
  }
  cv_.notify_all();
}

int app::run() {
  if (config_.loop && config_.input == "-") {
    common::log_error("--loop needs a file: standard input cannot be replayed twice");
    return 2;
  }
  auto registry = std::make_shared<prometheus::Registry>();
  auto& events_family = prometheus::BuildCounter()
                            .Name("tickstream_ingest_events_total")
                            .Help("Events read and published, by source and kind")
                            .Register(*registry);
  auto& invalid_family = prometheus::BuildCounter()
                             .Name("tickstream_ingest_invalid_total")
                             .Help("Input rejected as invalid, by source and reason")
                             .Register(*registry);
  auto& publish_errors = prometheus::BuildCounter()
                             .Name("tickstream_ingest_publish_errors_total")
                             .Help("Events that could not be published after retries")
                             .Register(*registry)
                             .Add({});

  std::unique_ptr<prometheus::Exposer> exposer;
  if (!config_.metrics_listen.empty()) {
    try {
      exposer = std::make_unique<prometheus::Exposer>(config_.metrics_listen);
      exposer->RegisterCollectable(registry);
    } catch (const std::exception& e) {
      common::log_error("cannot serve metrics", {{"listen", config_.metrics_listen}, {"reason", e.what()}});
      return 2;
    }
  }

  common::redis_options ropts;
  ropts.host = config_.redis_host;
  ropts.port = static_cast<int>(config_.redis_port);
  ropts.password = config_.redis_password;
  ropts.name = "ingest";
  common::redis_client redis(ropts);
  redis.start();
  event_publisher publisher(redis, static_cast<std::size_t>(config_.max_in_flight), config_.history_len);

  std::uint64_t good = 0, bad = 0;
  replay_clock clock(config_.speed);
  source_normalizers sources(config_.trading_user);
  for (int pass = 0; !stopping_.load(); ++pass) {
    std::ifstream file;
    if (config_.input != "-") {
      file.open(config_.input, std::ios::binary);
      if (!file) {
        common::log_error("cannot open input", {{"input", config_.input}});
        return 2;
      }
    }
    std::istream& in = config_.input == "-" ? std::cin : file;
    capture_reader reader(in);
    clock.begin_pass(common::now_us());
    // A problem with one line (or one part of a raw message): counted, logged on the first pass.
    const auto reject = [&](std::size_t line, const std::string& source, const common::error& e,
                            std::string_view input, std::int64_t recv_us) {
      ++bad;
      publisher.dead_letter(source, e, input, recv_us);
      invalid_family.Add({{"source", source}, {"reason", e.code}}).Increment();
      if (pass == 0) {
        common::log_warn("skipping bad input", {{"input", config_.input}, {"line", line}, {"source", source},
                                                {"code", e.code}, {"reason", e.message}});
      }
    };
    // Waits until an event received at recv_us is due; false if stopping.
    const auto pace = [&](std::int64_t recv_us) {
      const auto due = clock.due_us(recv_us);
      if (common::now_us() >= due) return true;
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::microseconds(due - common::now_us()), [&] { return stopping_.load(); });
      return !stopping_.load();
    };
    // Moves an event to the present by shift_us and publishes it.
    const auto publish = [&](common::event& ev, std::int64_t shift_us, const std::string& source) {
      std::visit(
          [&](auto& e) {
            if constexpr (std::is_same_v<std::decay_t<decltype(e)>, common::price_update>) {
              e.source_time_us += shift_us;
              e.recv_time_us += shift_us;
            } else {
              e.header.time_us += shift_us;
              e.header.recv_time_us += shift_us;
            }
          },
          ev);
      publisher.publish(ev);
      events_family.Add({{"source", source}, {"kind", common::event_type_name(ev)}}).Increment();
      ++good;
    };
    while (!stopping_.load()) {
      auto item = reader.next();
      if (!item) break;
      if (!item->event) {
        reject(item->line_no, "replay", item->event.err(), item->text, common::now_us());
        continue;
      }
      auto& rec = item->event.value();
      if (auto* raw = std::get_if<capture_reader::raw_message>(&rec)) {
        if (!pace(raw->recv_us)) break;
        auto* source = sources.find(raw->source);
        if (source == nullptr) {
          reject(item->line_no, raw->source,
                 {"unknown_source", "no normalizer for source '" + raw->source +
                                        "' (known: finnhub, alpaca, and alpaca-trading with --trading-user)"},
                 raw->text, raw->recv_us);
          continue;
        }
        auto out = source->normalize(raw->text, raw->recv_us);
        for (const auto& problem : out.problems) reject(item->line_no, raw->source, problem, raw->text, raw->recv_us);
        const auto shift = common::now_us() - raw->recv_us;
        for (auto& ev : out.events) publish(ev, shift, raw->source);
        continue;
      }
      auto& ev = std::get<common::event>(rec);
      const auto recv_us = common::recv_time_of(ev);
      if (!pace(recv_us)) break;
      publish(ev, common::now_us() - recv_us, "replay");
    }
    if (!config_.loop) break;
  }
  publisher.flush();
  const auto c = publisher.snapshot();
  publish_errors.Increment(static_cast<double>(c.failed));
  redis.stop();
  common::log_info("replay finished", {{"input", config_.input}, {"events", good}, {"invalid_lines", bad},
                                       {"published", c.published}, {"duplicates", c.duplicates},
                                       {"publish_failures", c.failed}});
  return c.failed == 0 ? 0 : 1;
}

}  // namespace tickstream::ingest
