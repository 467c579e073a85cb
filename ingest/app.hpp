#pragma once
// Ingest v0 wiring: replays a JSONL capture (file or stdin) into Redis.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "common/config_parser.hpp"
#include "ingest/publish/shard.hpp"
#include "ingest/sources/replay_clock.hpp"

namespace boost::asio {
class io_context;
}

namespace tickstream::ingest {

class server_api;
class webhook_server;

struct app_config {
  std::string redis_host = "127.0.0.1";  // Redis to publish to
  std::int64_t redis_port = 6379;
  std::string redis_password;           // AUTH password; never logged
  common::redis_access redis_access;    // ACL user, TLS (--redis-user, --redis-tls*, --redis-url)
  std::string input;                    // capture file, or "-" for stdin; empty: live sources
  replay_speed speed{};                 // 1 = real time
  bool loop = false;                    // replay the file again and again (not with stdin)
  std::int64_t max_in_flight = 10'000;  // commands handed to Redis and not answered yet
  // Redis is unusable when a reply is this late (or the connection is down): /readyz fails,
  // nothing more is sent, the webhook answers 503 within this.
  std::int64_t redis_timeout_ms = 1'000;
  // A tick waiting for Redis longer than this after it was received is dropped, never published
  // late as the latest price (2 s: well past normal publish latency, well short of stale).
  std::int64_t max_tick_age_ms = 2'000;
  // Private events waiting for Redis (~1 KiB each); past it the webhook answers 503.
  std::int64_t max_queued_private = 50'000;
  // At stop, how long what is waiting may take to reach Redis before it is given up (keeps a
  // SIGTERM during a Redis stall within 2 s).
  std::int64_t shutdown_grace_ms = 1'000;
  std::int64_t history_len = 1000;
  std::string trading_user;   // user id the Alpaca trading account maps to
  std::string accounts_file;  // registry of broker accounts (user id, credential refs)
  std::string accounts_hash;  // the same registry as a Redis hash (empty: off)
  // How often the hash is read again: an account added, changed or removed is taken up this fast.
  std::int64_t accounts_refresh_s = 10;
  std::string broker_rest_url;             // broker REST API for reconciliation (empty: off)
  std::int64_t reconcile_interval_s = 60;  // the broker's minute-old truth bounds how long a missed fill stays missed
  // Live sources (each off while its URL is empty).
  std::string finnhub_url;         // wss://ws.finnhub.io?token=... (secret: holds the token)
  std::string finnhub_symbols;     // comma-separated
  std::string alpaca_data_url;     // wss://stream.data.alpaca.markets/v2/iex
  std::string alpaca_symbols;      // comma-separated
  std::string alpaca_trading_url;  // wss://paper-api.alpaca.markets/stream
  // The Alpaca Broker API's trade events stream (SSE) for its accounts in --accounts-file; empty: off.
  std::string broker_events_url;     // e.g. https://broker-api.sandbox.alpaca.markets
  std::string broker_key;            // secret: the Broker API key (HTTP Basic auth)
  std::string broker_secret;         // secret
  std::string alpaca_key;            // secret
  std::string alpaca_secret;         // secret
  std::string capture;               // file to append every raw upstream message to
  std::string webhook_listen;        // host:port for POST /v1/events; empty: off
  std::string webhook_secret;        // HMAC key of the webhook and the server API
  std::string api_key;               // Bearer key of the server API ("" = signatures only)
  std::int64_t heartbeat_ms = 5000;  // how often each source's liveness goes to ts:sys
  // A connected source that sends nothing this long is reported silent (stale to clients); 0: off.
  // The market feeds send pings or data all session long, so a minute of nothing is a broken feed;
  // the trading stream is quiet whenever nobody trades, so it is off there.
  std::int64_t finnhub_silence_ms = 60'000;
  std::int64_t alpaca_data_silence_ms = 60'000;
  std::int64_t alpaca_trading_silence_ms = 0;
  // When the market feeds' silence counts: "us-equities" (weekdays 09:30-16:00 New York) or
  // "always" (24/7 markets such as crypto).
  std::string market_hours = "us-equities";
  shard market_shard{};        // which market symbols this worker takes ("i/n")       // private events kept per user
                               // (approximately, MAXLEN ~)
  std::string metrics_listen;  // "host:port" for /metrics; empty = off
  std::string log_level = "info";

  // Registers every field as a flag/environment variable on parser.
  void bind(common::config_parser& parser);
};

class app {
 public:
  explicit app(app_config config);

  // Replays --input until it ends (or forever with --loop), or runs the live sources, until
  // stop() is called. Returns the process exit status: 0 when every good event was published, 1
  // when some publishes failed, 2 for configuration errors (no input and no source, an unreadable
  // input or capture file, a bad source URL).
  int run();
  // Thread-safe; interrupts pacing waits.
  void stop();

 private:
  struct context;
  // The webhook and the server API on --webhook-listen (none when it is empty); code 2 when
  // they could not start (the message is printed).
  struct http_servers {
    std::unique_ptr<server_api> api;
    std::unique_ptr<webhook_server> webhook;
    int code = 0;
    bool ok() const noexcept { return code == 0; }
    void stop();
    http_servers() = default;
    http_servers(http_servers&&) noexcept = default;
    ~http_servers();
  };
  http_servers start_http(boost::asio::io_context& ioc, context& ctx);
  int run_replay(context& ctx);
  int run_live(context& ctx);

  app_config config_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace tickstream::ingest
