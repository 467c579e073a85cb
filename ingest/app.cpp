#include "ingest/app.hpp"

#include <algorithm>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/clock.hpp"
#include "common/event_codec.hpp"
#include "common/log.hpp"
#include "common/redis/keys.hpp"
#include "common/redis/redis_client.hpp"
#include "common/symbol.hpp"
#include "ingest/api/server_api.hpp"
#include "ingest/normalize/broker_events_normalizer.hpp"
#include "ingest/normalize/broker_reconciler.hpp"
#include "ingest/normalize/source_normalizers.hpp"
#include "ingest/normalize/source_protocol.hpp"
#include "ingest/ops/ops_server.hpp"
#include "ingest/publish/event_publisher.hpp"
#include "ingest/publish/publish_queue.hpp"
#include "ingest/sources/account_reconciler.hpp"
#include "ingest/sources/accounts_registry.hpp"
#include "ingest/sources/broker_event_stream.hpp"
#include "ingest/sources/capture_reader.hpp"
#include "ingest/sources/capture_writer.hpp"
#include "ingest/sources/source_silence.hpp"
#include "ingest/sources/webhook_server.hpp"
#include "ingest/sources/ws_source.hpp"

namespace tickstream::ingest {

void app_config::bind(common::config_parser& p) {
  p.add_redis(redis_host, redis_port, redis_password);
  p.add_redis_access(redis_host, redis_port, redis_password, redis_access);
  p.add_string("input", "TS_INPUT", input,
               "JSONL capture to replay, or '-' for standard input (empty: run the live sources).");
  p.add_secret("finnhub-url", "TS_FINNHUB_URL", finnhub_url,
               "Finnhub WebSocket URL with its token, e.g. wss://ws.finnhub.io?token=... (empty: off).");
  p.add_string("finnhub-symbols", "TS_FINNHUB_SYMBOLS", finnhub_symbols, "Comma-separated symbols for Finnhub.");
  p.add_string("alpaca-data-url", "TS_ALPACA_DATA_URL", alpaca_data_url,
               "Alpaca market data v2 URL, e.g. wss://stream.data.alpaca.markets/v2/iex (empty: off).");
  p.add_string("alpaca-symbols", "TS_ALPACA_SYMBOLS", alpaca_symbols, "Comma-separated symbols for Alpaca data.");
  p.add_string("alpaca-trading-url", "TS_ALPACA_TRADING_URL", alpaca_trading_url,
               "Alpaca trading stream URL, e.g. wss://paper-api.alpaca.markets/stream (empty: off; needs "
               "--trading-user).");
  p.add_secret("alpaca-key", "TS_ALPACA_KEY", alpaca_key, "Alpaca API key id.");
  p.add_string("broker-events-url", "TS_BROKER_EVENTS_URL", broker_events_url,
               "Alpaca Broker API to read the trade events stream (GET /v2/events/trades) of the --accounts-file "
               "Broker API accounts from, e.g. https://broker-api.sandbox.alpaca.markets (empty: off).");
  p.add_secret("broker-key", "TS_BROKER_KEY", broker_key, "Alpaca Broker API key (HTTP Basic auth).");
  p.add_secret("broker-secret", "TS_BROKER_SECRET", broker_secret, "Alpaca Broker API secret.");
  p.add_secret("alpaca-secret", "TS_ALPACA_SECRET", alpaca_secret, "Alpaca API secret.");
  p.add_string("webhook-listen", "TS_WEBHOOK_LISTEN", webhook_listen,
               "host:port to accept the webhook (POST /v1/events) and the server API (POST /v1/publish) on "
               "(empty: off; needs --webhook-secret or --api-key). Runs beside a replay too.");
  p.add_secret("webhook-secret", "TS_WEBHOOK_SECRET", webhook_secret,
               "Shared secret the webhook's and the server API's HMAC-SHA256 signatures are made with.");
  p.add_secret("api-key", "TS_API_KEY", api_key,
               "Key the server API accepts as Authorization: Bearer <key> (empty: signatures only).");
  p.add_string("capture", "TS_CAPTURE", capture,
               "Append every raw upstream message, with its receive time, to this file (replayable with --input).");
  p.add_custom(
      "shard", "TS_SHARD",
      [this](std::string_view v) -> std::optional<std::string> {
        auto sh = shard::parse(v);
        if (!sh) return "must be i/n with 0 <= i < n <= 1024, e.g. 0/2";
        market_shard = *sh;
        return std::nullopt;
      },
      [this] { return std::to_string(market_shard.index) + "/" + std::to_string(market_shard.count); },
      "Market symbols (and --accounts-file accounts, by user id) this worker takes: i/n takes those whose "
      "hash is i mod n.");
  p.add_int("heartbeat-ms", "TS_HEARTBEAT_MS", heartbeat_ms, 100, 600'000,
            "How often each live source's liveness (connected, last message age) is published on ts:sys.");
  p.add_int("finnhub-silence-ms", "TS_FINNHUB_SILENCE_MS", finnhub_silence_ms, 0, 86'400'000,
            "Finnhub connected but sending nothing this long (within --market-hours) is reported silent, and clients "
            "get stale (0: off).");
  p.add_int("alpaca-data-silence-ms", "TS_ALPACA_DATA_SILENCE_MS", alpaca_data_silence_ms, 0, 86'400'000,
            "The same for Alpaca market data (0: off).");
  p.add_int(
      "alpaca-trading-silence-ms", "TS_ALPACA_TRADING_SILENCE_MS", alpaca_trading_silence_ms, 0, 86'400'000,
      "The same for the Alpaca trading stream, at any hour (0: off; the stream is quiet whenever nobody trades).");
  p.add_custom(
      "market-hours", "TS_MARKET_HOURS",
      [this](std::string_view v) -> std::optional<std::string> {
        if (v != "us-equities" && v != "always") return "must be us-equities or always";
        market_hours = std::string(v);
        return std::nullopt;
      },
      [this] { return market_hours; },
      "When a market feed's silence counts: us-equities (weekdays 09:30-16:00 New York time, holidays not known) "
      "or always.");
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
            "Commands handed to Redis and not answered yet; a replay waits beyond it (bounds memory at --speed max).");
  p.add_int("redis-timeout-ms", "TS_REDIS_TIMEOUT_MS", redis_timeout_ms, 50, 60'000,
            "Redis is unusable once a reply is this late (or it is disconnected): /readyz answers 503, events wait, "
            "the webhook answers 503 within this.");
  p.add_int(
      "max-tick-age-ms", "TS_MAX_TICK_AGE_MS", max_tick_age_ms, 10, 3'600'000,
      "A tick still waiting for Redis this long after it was received is dropped (counted), never published late.");
  p.add_int("max-queued-private", "TS_MAX_QUEUED_PRIVATE", max_queued_private, 1, 10'000'000,
            "Private events waiting for Redis; past it new ones are refused (the webhook answers 503).");
  p.add_int("shutdown-grace-ms", "TS_SHUTDOWN_GRACE_MS", shutdown_grace_ms, 0, 600'000,
            "At stop, how long waiting events may take to reach Redis before they are given up (logged, counted).");
  p.add_string("trading-user", "TS_TRADING_USER", trading_user,
               "User id that the Alpaca trading stream's broker account belongs to (empty: none).");
  p.add_string("accounts-file", "TS_ACCOUNTS_FILE", accounts_file,
               "Broker accounts to stream from --alpaca-trading-url, one a line: user id, key and secret as "
               "env:NAME or file:PATH, optionally its stream URL (empty: the one account of --trading-user). "
               "Split over workers by --shard.");
  p.add_string("accounts-hash", "TS_ACCOUNTS_HASH", accounts_hash,
               "Redis hash of broker accounts beside --accounts-file: field = user id, value = the rest of a file line "
               "(key and secret references, optional stream URL, or account:<id>); read at start and every "
               "--accounts-refresh-s (empty: off).");
  p.add_int("accounts-refresh-s", "TS_ACCOUNTS_REFRESH_S", accounts_refresh_s, 1, 3600,
            "Seconds between two reads of --accounts-hash: accounts added, changed or removed are taken up.");
  p.add_string("broker-rest-url", "TS_BROKER_REST_URL", broker_rest_url,
               "Broker REST API to reconcile each trading account with, e.g. https://paper-api.alpaca.markets "
               "(empty: off).");
  p.add_int("reconcile-interval", "TS_RECONCILE_INTERVAL", reconcile_interval_s, 1, 86'400,
            "Seconds between two reconciliations of an account with the broker's REST API (also at start and "
            "after its stream reconnects).");
  p.add_int("history-len", "TS_HISTORY_LEN", history_len, 10, 10'000'000,
            "Private events kept per user in the history stream (for gap-free resume).");
  p.add_string("ops-listen", "TS_OPS_LISTEN", metrics_listen,
               "host:port of the internal port serving /metrics, /healthz and /readyz (empty: off); "
               "keep it off the load balancer.");
  p.add_string("metrics-listen", "TS_METRICS_LISTEN", metrics_listen, "The older name of --ops-listen.");
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

// What both modes share: metrics, Redis, the publisher, and the handling of unusable input.
struct app::context {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& events = prometheus::BuildCounter()
                                                        .Name("tickstream_ingest_events_total")
                                                        .Help("Events read and published, by source and kind")
                                                        .Register(*registry);
  prometheus::Family<prometheus::Counter>& invalid = prometheus::BuildCounter()
                                                         .Name("tickstream_ingest_invalid_total")
                                                         .Help("Input rejected as invalid, by source and reason")
                                                         .Register(*registry);
  prometheus::Counter& publish_errors = prometheus::BuildCounter()
                                            .Name("tickstream_ingest_publish_errors_total")
                                            .Help("Events Redis refused or never took (counted as they fail)")
                                            .Register(*registry)
                                            .Add({});
  prometheus::Family<prometheus::Counter>& ticks_dropped =
      prometheus::BuildCounter()
          .Name("tickstream_ingest_ticks_dropped_total")
          .Help("Ticks not published while Redis was slow or unusable, by reason")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& refused = prometheus::BuildCounter()
                                                         .Name("tickstream_ingest_queue_refused_total")
                                                         .Help("Events refused because the queue for Redis was full")
                                                         .Register(*registry);
  prometheus::Gauge& queued = prometheus::BuildGauge()
                                  .Name("tickstream_ingest_queued_events")
                                  .Help("Events waiting for Redis")
                                  .Register(*registry)
                                  .Add({});
  prometheus::Family<prometheus::Gauge>& source_up = prometheus::BuildGauge()
                                                         .Name("tickstream_ingest_source_connected")
                                                         .Help("1 while a live source is connected")
                                                         .Register(*registry);
  prometheus::Family<prometheus::Gauge>& source_silent =
      prometheus::BuildGauge()
          .Name("tickstream_ingest_source_silent")
          .Help("1 while a live source is connected but silent past its threshold (reported stale)")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& source_last =
      prometheus::BuildGauge()
          .Name("tickstream_ingest_source_last_message_timestamp_seconds")
          .Help("Unix time of a live source's last message")
          .Register(*registry);
  prometheus::Histogram& publish_latency =
      prometheus::BuildHistogram()
          .Name("tickstream_ingest_publish_latency_seconds")
          .Help("Receive time to Redis confirming the event stored and published")
          .Register(*registry)
          .Add({}, prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                           0.05, 0.1, 0.25, 0.5, 1, 2.5, 5});
  prometheus::Gauge& redis_connected = prometheus::BuildGauge()
                                           .Name("tickstream_ingest_redis_connected")
                                           .Help("1 while the Redis connection is up")
                                           .Register(*registry)
                                           .Add({});
  common::redis_client* redis = nullptr;
  event_publisher* publisher = nullptr;
  // Shared by the replay (main thread) and the HTTP listener's thread.
  std::atomic<std::uint64_t> good{0};
  std::atomic<std::uint64_t> bad{0};
  std::atomic<bool> log_rejects{true};
  // A replay must not conflate or drop: it waits for room before each event (false: stopping).
  std::function<bool()> wait_for_room{};
  publish_queue_counters seen{};  // the queue's counters already added to the metrics
  std::atomic<std::uint64_t> refused_private{0};

  shard market_shard;

  // Every outcome as it happens: failures are counted at once, not at exit.
  void observe(event_publisher::outcome o, publish_kind kind) {
    using outcome = event_publisher::outcome;
    if ((o == outcome::failed || o == outcome::abandoned) && kind != publish_kind::dead_letter)
      publish_errors.Increment();
    if (o == outcome::refused) {
      const char* k = kind == publish_kind::tick            ? "tick"
                      : kind == publish_kind::private_event ? "private"
                                                            : "dead_letter";
      refused.Add({{"kind", k}}).Increment();
      // Logged for the first 20 and then every 1000th: a long outage must not flood the log.
      if (kind == publish_kind::private_event) {
        if (const auto n = ++refused_private; n <= 20 || n % 1000 == 0) {
          common::log_error("a private event was refused: the queue for Redis is full",
                            {{"refused", n}, {"max_queued_private", publisher->queue_limits().max_waiting_private}});
        }
      }
    }
  }
  // Before each scrape: the queue's own counters (conflated, expired) and its depth.
  void scrape() {
    const auto now = publisher->queue_stats();
    ticks_dropped.Add({{"reason", "conflated"}}).Increment(static_cast<double>(now.conflated - seen.conflated));
    ticks_dropped.Add({{"reason", "too_old"}}).Increment(static_cast<double>(now.expired - seen.expired));
    seen = now;
    queued.Set(static_cast<double>(publisher->waiting()));
    redis_connected.Set(redis->command_connected() ? 1 : 0);
  }

  // Publishes an event and counts it; a tick of a symbol another worker owns is skipped. then, if
  // set, hears the outcome (any thread).
  void publish(const common::event& ev, const std::string& source,
               std::function<void(event_publisher::outcome)> then = {}) {
    if (const auto* t = std::get_if<common::price_update>(&ev); t != nullptr && !market_shard.owns(t->symbol)) return;
    if (wait_for_room && !wait_for_room()) return;
    publisher->publish(ev,
                       [this, recv_us = common::recv_time_of(ev), then = std::move(then)](event_publisher::outcome o) {
                         if (o == event_publisher::outcome::published) {
                           publish_latency.Observe(static_cast<double>(common::now_us() - recv_us) / 1e6);
                         }
                         if (then) then(o);
                       });
    events.Add({{"source", source}, {"kind", common::event_type_name(ev)}}).Increment();
    ++good;
  }
  // Input that cannot be used: counted by source and reason, logged, kept in the dead letters.
  void reject(std::size_t line, const std::string& source, const common::error& e, std::string_view input,
              std::int64_t recv_us) {
    ++bad;
    if (!wait_for_room || wait_for_room()) publisher->dead_letter(source, e, input, recv_us);
    invalid.Add({{"source", source}, {"reason", e.code}}).Increment();
    if (log_rejects) {
      common::log_warn("skipping bad input", {{"line", line},
                                              {"source", source},
                                              {"code", e.code},
                                              {"reason", e.message},
                                              {"excerpt", common::excerpt(input, 120)}});
    }
  }
};

int app::run() {
  if (config_.loop && config_.input == "-") {
    common::log_error("--loop needs a file: standard input cannot be replayed twice");
    return 2;
  }
  const bool upstreams = !config_.finnhub_url.empty() || !config_.alpaca_data_url.empty() ||
                         !config_.alpaca_trading_url.empty() || !config_.broker_events_url.empty();
  const bool live = upstreams || !config_.webhook_listen.empty();
  if (config_.input.empty() && !live) {
    std::fprintf(stderr,
                 "tickstream-ingest: give --input (a capture to replay) or at least one of --finnhub-url, "
                 "--alpaca-data-url, --alpaca-trading-url, --webhook-listen\n");
    return 2;
  }
  if (!config_.input.empty() && upstreams) {
    std::fprintf(stderr, "tickstream-ingest: --input replays a capture; it cannot be combined with live source URLs\n");
    return 2;
  }
  if (auto unreadable = common::check_redis_access_files(config_.redis_access)) {
    std::fprintf(stderr, "tickstream-ingest: --%s: %s\n", unreadable->code.c_str(), unreadable->message.c_str());
    return 2;
  }
  context ctx;
  common::redis_options ropts;
  ropts.host = config_.redis_host;
  ropts.port = static_cast<int>(config_.redis_port);
  ropts.password = config_.redis_password;
  common::apply_redis_access(ropts, config_.redis_access);
  ropts.name = "ingest";
  common::redis_client redis(ropts);
  std::unique_ptr<ops_server> ops;
  if (!config_.metrics_listen.empty()) {
    try {
      ops = std::make_unique<ops_server>(
          config_.metrics_listen, ctx.registry,
          [this, &redis, &ctx](std::string& why) {
            if (stopping_.load())
              why = "stopping";
            else if (!redis.command_connected())
              why = "redis_down";
            else if (ctx.publisher != nullptr && !ctx.publisher->usable())
              why = "redis_stalled";
            return why.empty();
          },
          [&ctx] {
            if (ctx.publisher != nullptr) ctx.scrape();
          });
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tickstream-ingest: --metrics-listen: cannot listen on %s: %s\n",
                   config_.metrics_listen.c_str(), e.what());
      return 2;
    }
  }
  redis.start();
  event_publisher::options popts;
  popts.limits.max_in_flight = static_cast<std::size_t>(config_.max_in_flight);
  popts.limits.max_waiting_private = static_cast<std::size_t>(config_.max_queued_private);
  popts.limits.max_tick_age_us = config_.max_tick_age_ms * 1000;
  popts.limits.stall_after_us = config_.redis_timeout_ms * 1000;
  popts.history_len = config_.history_len;
  popts.observe = [&ctx](event_publisher::outcome o, publish_kind k) { ctx.observe(o, k); };
  event_publisher publisher(redis, popts);
  ctx.redis = &redis;
  ctx.market_shard = config_.market_shard;
  if (!config_.input.empty()) {
    ctx.wait_for_room = [this, &publisher] { return publisher.wait_for_room([this] { return stopping_.load(); }); };
  }
  ctx.publisher = &publisher;

  int status = 0;
  if (config_.input.empty()) {
    status = run_live(ctx);
  } else if (config_.webhook_listen.empty()) {
    status = run_replay(ctx);
  } else {
    // The webhook and the server API beside a replay (a local tier that takes pushes): they run
    // on a thread of their own and keep serving once the replay has ended, until stopped.
    boost::asio::io_context ioc;
    auto http = start_http(ioc, ctx);
    if (!http.ok()) return http.code;
    std::thread server([&ioc] { ioc.run(); });
    status = run_replay(ctx);
    if (status == 0) {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_.load(); });
    }
    boost::asio::post(ioc, [&] {
      http.stop();
      ioc.stop();
    });
    server.join();
  }
  // A replay that ran to its end waits for Redis to take everything (until stopped); a stop
  // gives what is still waiting --shutdown-grace-ms, so a stalled Redis cannot hold the exit.
  if (!config_.input.empty()) publisher.wait_idle([this] { return stopping_.load(); });
  publisher.flush(std::chrono::milliseconds(config_.shutdown_grace_ms));
  redis.stop();  // what was handed to Redis and never answered fails now
  const auto c = publisher.snapshot();
  const auto q = publisher.queue_stats();
  std::string what = config_.input.empty() ? "ingest stopped" : "replay finished";
  if (c.failed != 0) what += ": Redis did not store every event";
  common::log(c.failed == 0 ? common::log_level::info : common::log_level::error, what,
              {{"input", config_.input},
               {"events", ctx.good.load()},
               {"invalid_lines", ctx.bad.load()},
               {"published", c.published},
               {"duplicates", c.duplicates},
               {"publish_failures", c.failed},
               {"ticks_conflated", q.conflated},
               {"ticks_too_old", q.expired},
               {"refused", q.refused_ticks + q.refused_private + q.refused_dead_letters}});
  if (status != 0) return status;
  return c.failed == 0 ? 0 : 1;
}

int app::run_replay(context& ctx) {
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
    ctx.log_rejects = pass == 0;  // a looping replay repeats its bad lines: log them once
    // Waits until an event received at recv_us is due; false if stopping.
    const auto pace = [&](std::int64_t recv_us) {
      const auto due = clock.due_us(recv_us);
      if (common::now_us() >= due) return true;
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::microseconds(due - common::now_us()), [&] { return stopping_.load(); });
      return !stopping_.load();
    };
    while (!stopping_.load()) {
      auto item = reader.next();
      if (!item) break;
      if (!item->event) {
        ctx.reject(item->line_no, "replay", item->event.err(), item->text, common::now_us());
        continue;
      }
      auto& rec = item->event.value();
      if (auto* raw = std::get_if<capture_reader::raw_message>(&rec)) {
        if (!pace(raw->recv_us)) break;
        auto* source = sources.find(raw->source);
        if (source == nullptr) {
          ctx.reject(item->line_no, raw->source,
                     {"unknown_source", "no normalizer for source '" + raw->source +
                                            "' (known: finnhub, alpaca, and alpaca-trading with --trading-user)"},
                     raw->text, raw->recv_us);
          continue;
        }
        auto out = source->normalize(raw->text, raw->recv_us);
        for (const auto& problem : out.problems)
          ctx.reject(item->line_no, raw->source, problem, raw->text, raw->recv_us);
        const auto shift = common::now_us() - raw->recv_us;
        for (auto& ev : out.events) {
          time_shift(ev, shift);
          ctx.publish(ev, raw->source);
        }
        continue;
      }
      auto& ev = std::get<common::event>(rec);
      const auto recv_us = common::recv_time_of(ev);
      if (!pace(recv_us)) break;
      time_shift(ev, common::now_us() - recv_us);
      ctx.publish(ev, "replay");
    }
    if (!config_.loop) break;
  }
  return 0;
}

namespace {

std::vector<std::string> split_symbols(const std::string& list, const shard& mine) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    auto end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    if (end > start) {
      if (auto sym = common::normalize_symbol(std::string_view(list).substr(start, end - start))) {
        if (mine.owns(sym.value())) out.push_back(std::move(sym).value());
      } else {
        throw std::invalid_argument(sym.err().message + ": '" + list.substr(start, end - start) + "'");
      }
    }
    start = end + 1;
  }
  return out;
}

// A source's liveness now (last_message_us 0 and age_ms null: no message yet).
template <class Source>
common::source_status status_of(const Source& s, std::int64_t now) {
  const auto last = s.last_message_us();
  return {s.name(), s.connected(), last, last == 0 ? std::nullopt : std::optional<std::int64_t>((now - last) / 1000),
          now};
}

// A live source (WebSocket or event stream) with what the heartbeat needs to tell whether it has
// gone silent.
struct watched_source {
  std::function<common::source_status(std::int64_t)> probe;
  silence_rule rule;
  bool was_connected = false;
  std::int64_t connected_at_us = 0;
  bool silent = false;

  // Its status at now, silence included; logs a change of silence.
  common::source_status status(std::int64_t now) {
    auto st = probe(now);
    const bool up = st.connected;
    if (up && !was_connected) connected_at_us = now;
    was_connected = up;
    const bool quiet = up && is_silent(rule, std::max(st.last_message_us, connected_at_us), now);
    if (quiet != silent) {
      silent = quiet;
      if (quiet) {
        common::log_warn("source connected but silent past its threshold; reported stale",
                         {{"source", st.source}, {"silence_ms", rule.after_ms}});
      } else {
        common::log_info("source heard again", {{"source", st.source}});
      }
    }
    st.silent = quiet;
    return st;
  }
};

}  // namespace

app::http_servers::~http_servers() = default;

app::http_servers app::start_http(boost::asio::io_context& ioc, context& ctx) {
  http_servers out;
  if (config_.webhook_listen.empty()) return out;
  if (config_.webhook_secret.empty() && config_.api_key.empty()) {
    std::fprintf(stderr, "tickstream-ingest: --webhook-listen needs --webhook-secret or --api-key\n");
    out.code = 2;
    return out;
  }
  if ((!config_.webhook_secret.empty() && config_.webhook_secret.size() < 16) ||
      (!config_.api_key.empty() && config_.api_key.size() < 16)) {
    std::fprintf(stderr, "tickstream-ingest: --webhook-secret and --api-key: at least 16 characters are required\n");
    out.code = 2;
    return out;
  }
  out.api = std::make_unique<server_api>(
      *ctx.redis, config_.history_len, api_credentials{config_.api_key, config_.webhook_secret}, publish_limits{},
      [&ctx](const common::error& e, std::string_view body) { ctx.reject(0, "api", e, body, common::now_us()); },
      [&ctx](std::string_view kind, std::size_t n) {
        ctx.events.Add({{"source", "api"}, {"kind", std::string(kind)}}).Increment(static_cast<double>(n));
        ctx.good += n;
      });
  try {
    out.webhook = std::make_unique<webhook_server>(
        ioc, config_.webhook_listen, config_.webhook_secret, *ctx.publisher,
        [&ctx](const common::error& e, std::string_view body) { ctx.reject(0, "webhook", e, body, common::now_us()); },
        [api = out.api.get()](const http_request_view& req, const http_reply_fn& reply) {
          return api->handle(req, reply);
        },
        std::chrono::milliseconds(config_.redis_timeout_ms));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tickstream-ingest: --webhook-listen: cannot listen on %s: %s\n",
                 config_.webhook_listen.c_str(), e.what());
    out.code = 2;
    return out;
  }
  common::log_info("webhook listening", {{"listen", config_.webhook_listen}, {"port", out.webhook->port()}});
  return out;
}

void app::http_servers::stop() {
  if (webhook) webhook->stop();
}

int app::run_live(context& ctx) {
  std::unique_ptr<capture_writer> capture;
  if (!config_.capture.empty()) {
    try {
      capture = std::make_unique<capture_writer>(config_.capture);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tickstream-ingest: --capture: %s\n", e.what());
      return 2;
    }
  }
  boost::asio::io_context ioc;
  // Every message: recorded raw, then its events published and its problems rejected.
  const ws_source::sink sink = [&](const std::string& source, std::int64_t recv_us, std::string_view raw,
                                   normalized&& n) {
    if (capture) capture->write(source, recv_us, raw);
    for (const auto& p : n.problems) ctx.reject(0, source, p, raw, recv_us);
    for (const auto& ev : n.events) ctx.publish(ev, source);
  };
  std::vector<std::unique_ptr<ws_source>> sources;
  // Each trading account's reconciliation with the broker's REST API (with --broker-rest-url),
  // beside its stream: again whenever the stream comes back.
  struct reconciled {
    const ws_source* stream;
    std::unique_ptr<account_reconciler> reconciler;
    bool was_connected = false;
  };
  std::vector<reconciled> reconcilers;
  // The Broker API accounts this worker serves: account id -> user id.
  auto broker_users = std::make_shared<std::unordered_map<std::string, std::string>>();
  const auto new_reconciler = [&](account_reconciler::options o) {
    o.interval = std::chrono::seconds(config_.reconcile_interval_s);
    return std::make_unique<account_reconciler>(ioc, std::move(o), *ctx.redis, [&ctx](const common::event& ev) {
      ctx.publish(ev, std::string(reconcile_source));
    });
  };
  // A Trading API account: with --broker-rest-url, its own key and secret.
  const auto make_reconciler = [&](const std::string& user, const std::string& key,
                                   const std::string& secret) -> std::unique_ptr<account_reconciler> {
    if (config_.broker_rest_url.empty()) return nullptr;
    return new_reconciler(trading_api_options(config_.broker_rest_url, key, secret, user));
  };
  const auto reconcile_account = [&](const std::string& user, const std::string& key, const std::string& secret) {
    if (auto r = make_reconciler(user, key, secret)) reconcilers.push_back({sources.back().get(), std::move(r), false});
  };
  // A Broker API customer account: with the Broker API of --broker-events-url and the broker's
  // credentials; again whenever the event stream comes back.
  std::string broker_api_url = config_.broker_events_url;
  while (!broker_api_url.empty() && broker_api_url.back() == '/') broker_api_url.pop_back();
  const auto make_broker_reconciler = [&](const std::string& user, const std::string& account) {
    return new_reconciler(broker_api_options(broker_api_url, account, config_.broker_key, config_.broker_secret, user));
  };
  std::vector<std::unique_ptr<account_reconciler>> broker_reconcilers;
  std::uint64_t broker_events_connections = 0;  // the event stream's connections seen
  std::unordered_set<std::string> file_users;   // accounts of --accounts-file (the hash cannot replace them)
  try {
    if (!config_.finnhub_url.empty()) {
      sources.push_back(std::make_unique<ws_source>(
          ioc, source_options{config_.finnhub_url},
          make_finnhub_protocol(split_symbols(config_.finnhub_symbols, config_.market_shard)), sink));
    }
    if (!config_.alpaca_data_url.empty()) {
      sources.push_back(std::make_unique<ws_source>(
          ioc, source_options{config_.alpaca_data_url},
          make_alpaca_market_protocol(config_.alpaca_key, config_.alpaca_secret,
                                      split_symbols(config_.alpaca_symbols, config_.market_shard)),
          sink));
    }
    if (!config_.accounts_file.empty() && (!config_.alpaca_trading_url.empty() || !config_.broker_events_url.empty())) {
      // One trading stream per account, side by side on this loop, each with its own backoff;
      // the Broker API's accounts share its one event stream.
      auto loaded = load_accounts(config_.accounts_file);
      if (!loaded) throw std::invalid_argument("--accounts-file: " + loaded.err().message);
      for (const auto& e : loaded->skipped) common::log_error("broker account left out", {{"reason", e.message}});
      std::size_t mine = 0;
      for (auto& a : loaded->accounts) {
        if (!config_.market_shard.owns(a.user_id)) continue;
        file_users.insert(a.user_id);
        if (!a.broker_account.empty()) {
          if (config_.broker_events_url.empty()) continue;
          ++mine;
          broker_users->emplace(a.broker_account, a.user_id);
          broker_reconcilers.push_back(make_broker_reconciler(a.user_id, a.broker_account));
          continue;
        }
        if (config_.alpaca_trading_url.empty()) continue;
        ++mine;
        sources.push_back(
            std::make_unique<ws_source>(ioc, source_options{a.url.empty() ? config_.alpaca_trading_url : a.url},
                                        make_alpaca_trading_protocol(a.key, a.secret, a.user_id), sink));
        reconcile_account(a.user_id, a.key, a.secret);
      }
      common::log_info("broker accounts", {{"listed", loaded->accounts.size() + loaded->skipped.size()},
                                           {"streamed_here", mine},
                                           {"broker_api_accounts_here", broker_users->size()},
                                           {"left_out", loaded->skipped.size()}});
    } else if (!config_.alpaca_trading_url.empty() &&
               (config_.accounts_hash.empty() || !config_.trading_user.empty())) {
      if (!common::is_valid_user_id(config_.trading_user)) {
        throw std::invalid_argument(
            "--alpaca-trading-url needs --trading-user, --accounts-file or --accounts-hash (whose accounts they are)");
      }
      sources.push_back(std::make_unique<ws_source>(
          ioc, source_options{config_.alpaca_trading_url},
          make_alpaca_trading_protocol(config_.alpaca_key, config_.alpaca_secret, config_.trading_user), sink));
      reconcile_account(config_.trading_user, config_.alpaca_key, config_.alpaca_secret);
    }
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "tickstream-ingest: %s\n", e.what());
    return 2;
  }
  std::unique_ptr<broker_event_stream> broker_events;
  if (!config_.broker_events_url.empty()) {
    if (config_.accounts_file.empty() && config_.accounts_hash.empty()) {
      std::fprintf(
          stderr,
          "tickstream-ingest: --broker-events-url needs --accounts-file or --accounts-hash (which accounts are "
          "whose)\n");
      return 2;
    }
    broker_event_stream::options bo;
    bo.url = broker_api_url;
    bo.key = config_.broker_key;
    bo.secret = config_.broker_secret;
    const auto& sh = config_.market_shard;
    bo.cursor_key = common::broker_cursor_key(
        "trades", sh.count > 1 ? std::to_string(sh.index) + "-of-" + std::to_string(sh.count) : std::string());
    const std::string source(broker_events_source);
    broker_events = std::make_unique<broker_event_stream>(
        ioc, std::move(bo), *ctx.redis,
        [users = broker_users](std::string_view account) -> std::optional<std::string> {
          const auto it = users->find(std::string(account));
          if (it == users->end()) return std::nullopt;
          return it->second;
        },
        [&ctx, source](const common::event& ev, std::function<void(bool)> done) {
          ctx.publish(ev, source, [done = std::move(done)](event_publisher::outcome o) {
            done(o == event_publisher::outcome::published || o == event_publisher::outcome::duplicate);
          });
        },
        [&ctx, source](const common::error& e, std::string_view raw, std::int64_t recv_us) {
          ctx.reject(0, source, e, raw, recv_us);
        });
  }
  for (auto& s : sources) s->start();
  for (auto& r : reconcilers) r.reconciler->start();
  for (auto& r : broker_reconcilers) r->start();
  if (broker_events) broker_events->start();
  std::vector<watched_source> watched;
  for (auto& s : sources) {
    const bool market = s->name() != "alpaca-trading";
    const auto after = s->name() == "finnhub" ? config_.finnhub_silence_ms
                       : market               ? config_.alpaca_data_silence_ms
                                              : config_.alpaca_trading_silence_ms;
    watched.push_back({[src = s.get()](std::int64_t now) { return status_of(*src, now); },
                       {after, market && config_.market_hours == "us-equities"}});
  }
  if (broker_events) {
    watched.push_back({[b = broker_events.get()](std::int64_t now) { return status_of(b->source(), now); },
                       {config_.alpaca_trading_silence_ms, false}});
  }
  auto http = start_http(ioc, ctx);
  if (!http.ok()) return http.code;

  // The accounts of --accounts-hash, read again every --accounts-refresh-s: each account added
  // gets its stream (or its place in the Broker API's) and its reconciliation, each removed or
  // changed one is stopped (and started again with what changed).
  struct hash_account {
    account_credentials creds;
    std::unique_ptr<ws_source> stream;
    std::unique_ptr<account_reconciler> reconciler;
    watched_source watch;
    bool was_connected = false;
  };
  std::map<std::string, hash_account> hash_accounts;
  std::set<std::string> hash_skipped;  // the reasons already logged
  bool hash_reading = false;
  std::int64_t last_hash_read = 0;
  const auto same_account = [](const account_credentials& a, const account_credentials& b) {
    return a.key == b.key && a.secret == b.secret && a.url == b.url && a.broker_account == b.broker_account;
  };
  const auto apply_hash = [&](const std::vector<std::pair<std::string, std::string>>& fields) {
    auto loaded = load_accounts_hash(fields);
    std::set<std::string> skipped;
    for (const auto& e : loaded.skipped) {
      skipped.insert(e.message);
      if (hash_skipped.count(e.message) == 0) {
        common::log_error("broker account left out", {{"registry", config_.accounts_hash}, {"reason", e.message}});
      }
    }
    hash_skipped = std::move(skipped);
    std::map<std::string, account_credentials> wanted;
    for (auto& a : loaded.accounts) {
      if (!config_.market_shard.owns(a.user_id) || file_users.count(a.user_id) != 0) continue;
      if (!a.broker_account.empty() ? !broker_events : config_.alpaca_trading_url.empty()) continue;
      wanted.emplace(a.user_id, std::move(a));
    }
    std::size_t added = 0, removed = 0;
    for (auto it = hash_accounts.begin(); it != hash_accounts.end();) {
      const auto w = wanted.find(it->first);
      if (w != wanted.end() && same_account(w->second, it->second.creds)) {
        ++it;
        continue;
      }
      if (it->second.stream) it->second.stream->stop();
      if (it->second.reconciler) it->second.reconciler->stop();
      if (!it->second.creds.broker_account.empty()) broker_users->erase(it->second.creds.broker_account);
      it = hash_accounts.erase(it);
      ++removed;
    }
    for (auto& [user, creds] : wanted) {
      if (hash_accounts.count(user) != 0) continue;
      hash_account h{creds, nullptr, nullptr, {}, false};
      if (!creds.broker_account.empty()) {
        broker_users->emplace(creds.broker_account, user);
        h.reconciler = make_broker_reconciler(user, creds.broker_account);
        h.reconciler->start();
      } else {
        h.stream =
            std::make_unique<ws_source>(ioc, source_options{creds.url.empty() ? config_.alpaca_trading_url : creds.url},
                                        make_alpaca_trading_protocol(creds.key, creds.secret, user), sink);
        h.watch = {[src = h.stream.get()](std::int64_t now) { return status_of(*src, now); },
                   {config_.alpaca_trading_silence_ms, false}};
        h.reconciler = make_reconciler(user, creds.key, creds.secret);
        h.stream->start();
        if (h.reconciler) h.reconciler->start();
      }
      hash_accounts.emplace(user, std::move(h));
      ++added;
    }
    if (added != 0 || removed != 0) {
      common::log_info("broker accounts from the registry hash", {{"registry", config_.accounts_hash},
                                                                  {"added", added},
                                                                  {"removed", removed},
                                                                  {"served_here", hash_accounts.size()},
                                                                  {"left_out", loaded.skipped.size()}});
    }
  };
  const auto read_hash = [&] {
    hash_reading = true;
    ctx.redis->command({"HGETALL", config_.accounts_hash}, [&](common::result<common::redis_reply> r) {
      // On the Redis thread: the fields go to the loop.
      std::optional<std::vector<std::pair<std::string, std::string>>> fields;
      if (r && r->type == common::redis_reply::kind::array) {
        fields.emplace();
        for (std::size_t i = 0; i + 1 < r->elements.size(); i += 2) {
          fields->emplace_back(std::move(r->elements[i].str), std::move(r->elements[i + 1].str));
        }
      }
      boost::asio::post(ioc, [&, fields = std::move(fields)] {
        hash_reading = false;
        if (stopping_.load()) return;
        if (!fields) {
          common::log_warn("cannot read the accounts registry hash; trying again",
                           {{"registry", config_.accounts_hash}});
          return;
        }
        apply_hash(*fields);
      });
    });
  };

  // Every heartbeat_ms: each source's liveness on ts:sys (and in a key that outlives a missed beat
  // briefly), so edges can tell clients when a source goes stale; the capture file is flushed.
  // The timer itself ticks every 100 ms so that stop() is noticed quickly.
  boost::asio::steady_timer timer(ioc);
  std::int64_t last_beat = 0;
  std::int64_t last_probe = 0;
  std::function<void()> tick = [&] {
    const auto now = common::now_us();
    ctx.publisher->pump();  // notices a Redis usable again with nothing in flight
    if (now - last_probe >= 500'000) {
      last_probe = now;
      ctx.publisher->probe();  // notices a stall with nothing in flight
    }
    if (stopping_.load() || now - last_beat >= config_.heartbeat_ms * 1000) {
      last_beat = now;
      // Sources of one name (the trading streams of many accounts) share one status: connected
      // while any of them is, aged by the latest message of any.
      // Heartbeats are not queued behind a stalled Redis: one that arrived late would say a
      // source is fine when nobody knows.
      const bool redis_usable = ctx.publisher->usable();
      std::vector<common::source_status> statuses;
      std::vector<watched_source*> all;
      all.reserve(watched.size() + hash_accounts.size());
      for (auto& w : watched) all.push_back(&w);
      for (auto& [user, h] : hash_accounts) {
        if (h.stream) all.push_back(&h.watch);
      }
      for (auto* w : all) {
        auto st = w->status(now);
        const auto it = std::find_if(statuses.begin(), statuses.end(),
                                     [&](const common::source_status& o) { return o.source == st.source; });
        if (it == statuses.end()) {
          statuses.push_back(std::move(st));
        } else {
          // Silent only while every connected one of them is.
          it->silent =
              (it->silent || !it->connected) && (st.silent || !st.connected) && (it->connected || st.connected);
          it->connected = it->connected || st.connected;
          if (st.last_message_us > it->last_message_us) {
            it->last_message_us = st.last_message_us;
            it->age_ms = st.age_ms;
          }
        }
      }
      for (const auto& st : statuses) {
        const auto status = common::encode_source_status(st);
        if (redis_usable) {
          ctx.redis->command(
              {"SET", common::source_status_key(st.source), status, "PX", std::to_string(3 * config_.heartbeat_ms)});
          ctx.redis->command({"PUBLISH", std::string(common::source_status_channel), status});
        }
        ctx.source_up.Add({{"source", st.source}}).Set(st.connected ? 1 : 0);
        ctx.source_silent.Add({{"source", st.source}}).Set(st.silent ? 1 : 0);
        if (st.last_message_us > 0) {
          ctx.source_last.Add({{"source", st.source}}).Set(static_cast<double>(st.last_message_us) / 1e6);
        }
      }
      if (capture) capture->flush();
    }
    // A trading stream that came back may have missed events while it was down: reconcile now.
    for (auto& r : reconcilers) {
      const bool up = r.stream->connected();
      if (up && !r.was_connected) r.reconciler->trigger();
      r.was_connected = up;
    }
    for (auto& [user, h] : hash_accounts) {
      if (!h.stream || !h.reconciler) continue;
      const bool up = h.stream->connected();
      if (up && !h.was_connected) h.reconciler->trigger();
      h.was_connected = up;
    }
    // The Broker API's one event stream came back: every account it serves here is reconciled
    // (counted by connections, so a reconnect quicker than this timer is not missed).
    if (broker_events && broker_events->connections() > broker_events_connections) {
      if (broker_events_connections != 0) {
        for (auto& r : broker_reconcilers) r->trigger();
        for (auto& [user, h] : hash_accounts) {
          if (!h.stream && h.reconciler) h.reconciler->trigger();
        }
      }
      broker_events_connections = broker_events->connections();
    }
    if (!config_.accounts_hash.empty() && !hash_reading && !stopping_.load() &&
        now - last_hash_read >= config_.accounts_refresh_s * 1'000'000) {
      last_hash_read = now;
      read_hash();
    }
    if (stopping_.load()) {
      for (auto& r : reconcilers) r.reconciler->stop();
      for (auto& r : broker_reconcilers) r->stop();
      for (auto& [user, h] : hash_accounts) {
        if (h.reconciler) h.reconciler->stop();
        if (h.stream) h.stream->stop();
      }
      for (auto& s : sources) s->stop();
      if (broker_events) broker_events->stop();
      http.stop();
      ioc.stop();
      return;
    }
    timer.expires_after(std::chrono::milliseconds(100));
    timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) tick();
    });
  };
  tick();
  ioc.run();
  if (capture) capture->flush();
  // While the io_context still exists: what waits gets its grace, and the Redis client's stop
  // completes what was never answered, releasing the webhook requests those answers hold.
  ctx.publisher->flush(std::chrono::milliseconds(config_.shutdown_grace_ms));
  ctx.redis->stop();
  return 0;
}

}  // namespace tickstream::ingest
