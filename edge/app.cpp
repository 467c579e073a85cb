#include "edge/app.hpp"

#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include <fstream>
#include <stdexcept>
#include <thread>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "edge/net/listener.hpp"
#include "edge/fanout/worker.hpp"
#include "edge/ops/worker_histogram.hpp"

namespace tickstream::edge {
namespace {

std::string default_node_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host[0] != '\0' ? host : "edge") + "-" + std::to_string(::getpid());
}

common::redis_options redis_options_of(const app_config& c) {
  common::redis_options o;
  o.host = c.redis_host;
  o.port = static_cast<int>(c.redis_port);
  o.password = c.redis_password;
  o.subscriber = true;
  o.unsubscribe_linger = std::chrono::milliseconds(c.unsubscribe_linger_ms);
  o.control_channel = "ts:edge:" + c.node_id;
  o.name = "edge";
  return o;
}

session_limits limits_of(const app_config& c) {
  session_limits l;
  l.max_message_bytes = static_cast<std::size_t>(c.max_message_bytes);
  l.max_subscriptions = static_cast<std::size_t>(c.max_subscriptions);
  l.soft_queued_frames = static_cast<std::size_t>(c.soft_queued_frames);
  l.soft_queued_bytes = static_cast<std::size_t>(c.soft_queued_bytes);
  l.max_queued_frames = static_cast<std::size_t>(c.max_queued_frames);
  l.max_queued_bytes = static_cast<std::size_t>(c.max_queued_bytes);
  l.batch_window = std::chrono::milliseconds(c.batch_window_ms);
  l.idle_timeout = std::chrono::milliseconds(c.idle_timeout_ms);
  l.handshake_timeout = std::chrono::seconds(c.handshake_timeout_s);
  l.token_expiry_warning = std::chrono::seconds(c.token_expiry_warning_s);
  l.max_messages_per_second = static_cast<double>(c.max_messages_per_second);
  return l;
}

common::redis_options with_after_io(common::redis_options o, std::function<void()> after_io) {
  o.after_io = std::move(after_io);
  return o;
}

app_config with_defaults(app_config c) {
  if (c.node_id.empty()) c.node_id = default_node_id();
  if (c.threads == 0) c.threads = std::max(1U, std::thread::hardware_concurrency());
  return c;
}

}  // namespace

void app_config::bind(common::config_parser& p) {
  if (node_id.empty()) node_id = default_node_id();  // shown as the default in --help and the log
  p.add_string("listen-host", "TS_EDGE_HOST", listen_host, "Address to listen on for clients.");
  p.add_int("port", "TS_EDGE_PORT", port, 0, 65535, "Port for WebSocket (/ws) and HTTP (/healthz, /metrics).");
  p.add_int("threads", "TS_EDGE_THREADS", threads, 0, 64, "Worker threads (0 = one per core).");
  p.add_redis(redis_host, redis_port, redis_password);
  p.add_string("node-id", "TS_NODE_ID", node_id, "Name of this edge in Redis and logs (empty: host name and PID).");
  p.add_int("max-message-bytes", "TS_MAX_MESSAGE_BYTES", max_message_bytes, 256, 16 * 1024 * 1024,
            "Largest client message; larger ones close the connection with 1009.");
  p.add_int("max-subscriptions", "TS_MAX_SUBSCRIPTIONS", max_subscriptions, 1, 1'000'000,
            "Symbols one connection may subscribe to.");
  p.add_int("soft-queued-frames", "TS_SOFT_QUEUED_FRAMES", soft_queued_frames, 1, 10'000'000,
            "Outbound frames queued per connection past which its ticks are conflated (latest per symbol).");
  p.add_int("soft-queued-bytes", "TS_SOFT_QUEUED_BYTES", soft_queued_bytes, 1024, 1LL << 32,
            "Outbound bytes queued per connection past which its ticks are conflated.");
  p.add_int("max-queued-frames", "TS_MAX_QUEUED_FRAMES", max_queued_frames, 16, 10'000'000,
            "Outbound frames queued or held per connection before it is closed as a slow consumer (4008).");
  p.add_int("max-queued-bytes", "TS_MAX_QUEUED_BYTES", max_queued_bytes, 64 * 1024, 1LL << 32,
            "Outbound bytes queued or held per connection before it is closed as a slow consumer (4008).");
  p.add_int("batch-window-ms", "TS_BATCH_WINDOW_MS", batch_window_ms, 0, 60'000,
            "Batching window in ms (0 = off); clients may ask for a larger one, never a smaller one.");
  p.add_int("unsubscribe-linger-ms", "TS_UNSUBSCRIBE_LINGER_MS", unsubscribe_linger_ms, 0, 600'000,
            "How long a channel nobody here wants any more stays subscribed in Redis, so clients that "
            "reconnect or flip symbols cost no UNSUBSCRIBE/SUBSCRIBE round trip.");
  p.add_int("idle-timeout-ms", "TS_IDLE_TIMEOUT_MS", idle_timeout_ms, 200, 3'600'000,
            "Milliseconds without client traffic or pong before closing; a ping goes out at half of it.");
  p.add_int("handshake-timeout", "TS_HANDSHAKE_TIMEOUT", handshake_timeout_s, 1, 300,
            "Seconds a client has to complete the HTTP request and WebSocket handshake.");
  p.add_int("shutdown-grace-ms", "TS_SHUTDOWN_GRACE_MS", shutdown_grace_ms, 0, 600'000,
            "Milliseconds clients get to finish the close handshake at shutdown.");
  p.add_log_level(log_level);
  p.add_string("jwt-algorithms", "TS_JWT_ALGORITHMS", jwt_algorithms,
               "JWT algorithms accepted, pinned: any of HS256, RS256, ES256, comma-separated (empty: no JWTs).");
  p.add_secret("jwt-hs-secret", "TS_JWT_HS_SECRET", jwt_hs_secret, "HS256 key (at least 32 bytes).");
  p.add_string("jwt-public-key-file", "TS_JWT_PUBLIC_KEY_FILE", jwt_public_key_file,
               "PEM public key that verifies RS256/ES256 tokens.");
  p.add_string("jwt-issuer", "TS_JWT_ISSUER", jwt_issuer, "Required token issuer, \"iss\" (empty: not checked).");
  p.add_string("jwt-audience", "TS_JWT_AUDIENCE", jwt_audience, "Required token audience, \"aud\" (empty: not checked).");
  p.add_int("jwt-leeway-s", "TS_JWT_LEEWAY_S", jwt_leeway_s, 0, 300, "Clock skew allowed on exp and nbf, in seconds.");
  p.add_string("jwt-cookie", "TS_JWT_COOKIE", jwt_cookie, "Cookie that may carry the JWT (empty: none).");
  p.add_string("session-cookie", "TS_SESSION_COOKIE", session_cookie,
               "Cookie carrying an opaque session id looked up in Redis as ts:sess:<id> (empty: none).");
  p.add_bool("allow-query-token", "TS_ALLOW_QUERY_TOKEN", allow_query_token,
             "Also accept ?token=<JWT> in the URL (it lands in proxy logs: off unless needed).");
  p.add_int("max-connections-per-user", "TS_MAX_CONNECTIONS_PER_USER", max_connections_per_user, 0, 100'000,
            "Connections one user may hold across the whole tier (0: no limit).");
  p.add_int("token-expiry-warning-s", "TS_TOKEN_EXPIRY_WARNING_S", token_expiry_warning_s, 1, 3600,
            "Seconds before a token or session expires that the client is sent token_expiring.");
  p.add_int("max-messages-per-second", "TS_MAX_MESSAGES_PER_SECOND", max_messages_per_second, 1, 100'000,
            "Client messages per second per connection (bursts of twice this); more are dropped with rate_limited.");
  p.add_int("max-connects-per-ip", "TS_MAX_CONNECTS_PER_IP", max_connects_per_ip, 0, 1'000'000,
            "New connections per second from one address before 429 (0: no limit).");
  p.add_int("lease-ttl-ms", "TS_LEASE_TTL_MS", lease_ttl_ms, 1000, 600'000,
            "Lifetime of a connection lease without refresh: a dead edge's slots free up within this.");
  p.add_int("stale-after-ms", "TS_STALE_AFTER_MS", stale_after_ms, 100, 3'600'000,
            "A source without a good heartbeat on ts:sys for this long is stale: its clients get 'stale'.");
  p.add_int("drain-ms", "TS_DRAIN_MS", drain_ms, 0, 600'000,
            "On SIGTERM, clients get a reconnect hint and are closed (1001) at random moments within this "
            "window, so they do not all reconnect at once; the process exits once they are gone.");
  p.add_int("probe-interval-ms", "TS_PROBE_INTERVAL_MS", probe_interval_ms, 100, 60'000,
            "How often a probe is published on the edge's own channel; /readyz fails when none came back "
            "through the subscriber connection for three intervals.");
  p.add_string("allowed-origins", "TS_ALLOWED_ORIGINS", allowed_origins,
               "Comma-separated Origins allowed to connect with cookie credentials (required with cookies).");
}

auth_config app_config::auth() const {
  const auto split = [](const std::string& list) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= list.size()) {
      auto end = list.find(',', start);
      if (end == std::string::npos) end = list.size();
      if (end > start) out.push_back(list.substr(start, end - start));
      start = end + 1;
    }
    return out;
  };
  auth_config a;
  a.session_cookie = session_cookie;
  a.allow_query_token = allow_query_token;
  a.allowed_origins = split(allowed_origins);
  if (!jwt_algorithms.empty()) {
    jwt_config j;
    for (const auto& name : split(jwt_algorithms)) {
      if (name == "HS256") j.accepted.push_back(jwt_alg::hs256);
      else if (name == "RS256") j.accepted.push_back(jwt_alg::rs256);
      else if (name == "ES256") j.accepted.push_back(jwt_alg::es256);
      else throw std::invalid_argument("--jwt-algorithms: unknown algorithm '" + name + "' (HS256, RS256, ES256)");
    }
    j.hs_secret = jwt_hs_secret;
    if (!jwt_public_key_file.empty()) {
      std::ifstream in(jwt_public_key_file);
      if (!in) throw std::invalid_argument("--jwt-public-key-file: cannot read " + jwt_public_key_file);
      j.public_key_pem.assign(std::istreambuf_iterator<char>(in), {});
    }
    j.leeway = std::chrono::seconds(jwt_leeway_s);
    if (!jwt_issuer.empty()) j.issuer = jwt_issuer;
    if (!jwt_audience.empty()) j.audience = jwt_audience;
    auto v = jwt_verifier::make(std::move(j));
    if (!v) throw std::invalid_argument("--jwt-algorithms/--jwt-hs-secret/--jwt-public-key-file: " + v.err().message);
    a.jwt = v.value();
    a.jwt_cookie = jwt_cookie;
  } else if (!jwt_cookie.empty() || allow_query_token) {
    throw std::invalid_argument("--jwt-cookie and --allow-query-token need --jwt-algorithms");
  }
  if ((!a.jwt_cookie.empty() || !a.session_cookie.empty()) && a.allowed_origins.empty()) {
    throw std::invalid_argument("--allowed-origins is required when cookies carry credentials");
  }
  return a;
}

app::app(app_config config)
    : config_(with_defaults(std::move(config))),
      fanout_(metrics_, "ts:edge:" + config_.node_id),
      redis_(with_after_io(redis_options_of(config_), [this] { fanout_.flush(); }),
             [this](std::string_view channel, std::string_view payload) { fanout_.on_message(channel, payload); }),
      leases_(config_.max_connections_per_user > 0
                  ? std::make_unique<connection_leases>(redis_, config_.node_id, config_.max_connections_per_user,
                                                        std::chrono::milliseconds(config_.lease_ttl_ms))
                  : nullptr),
      services_{config_.node_id, limits_of(config_), config_.auth(), metrics_, redis_, leases_.get(), nullptr, nullptr,
                {}, {}} {
  services_.census = &census_;
  services_.draining = &draining_;
  services_.ready = [this](std::string& why) { return ready(why); };
  services_.admin_stats = [this] { return admin_stats(); };
  std::vector<worker*> raw;
  for (std::int64_t i = 0; i < config_.threads; ++i) {
    // Heartbeat checks at a quarter of the idle timeout, at most once a second.
    const auto tick = std::min(std::chrono::milliseconds(1000), std::chrono::milliseconds(config_.idle_timeout_ms / 4));
    workers_.push_back(std::make_unique<worker>(static_cast<std::size_t>(i), fanout_, tick,
                                                std::chrono::milliseconds(config_.stale_after_ms)));
    raw.push_back(workers_.back().get());
  }
  fanout_.attach(redis_, raw, [this](std::string_view payload) {
    // A probe came back through the subscriber connection: it is provably delivering.
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::steady_clock::now().time_since_epoch()).count();
    probe_seen_ms_.store(now / 1000);
    try {
      probe_rtt_us_.store(now - std::stoll(std::string(payload)));
    } catch (const std::exception&) {
      // Not one of ours (someone published on our channel): it still proves delivery.
    }
  });
  const auto sum = [this](std::uint64_t (worker::*read)() const noexcept) {
    return [this, read] {
      double total = 0;
      for (const auto& w : workers_) total += static_cast<double>(((*w).*read)());
      return total;
    };
  };
  metrics_.add_external_counter({"tickstream_edge_frames_sent_total", "WebSocket frames written to clients",
                                 sum(&worker::frames_sent)});
  metrics_.add_external_counter({"tickstream_edge_bytes_sent_total", "Bytes of WebSocket frames written to clients",
                                 sum(&worker::bytes_sent)});
  metrics_.add_external_histogram({"tickstream_edge_delivery_latency_seconds",
                                   "Ingest receive time to the write to the client's socket completing",
                                   workers_.front()->latency().bounds(), [this](auto& buckets, auto& total, auto& count) {
                                     for (const auto& w : workers_) w->latency().add_totals(buckets, total, count);
                                   }});
  metrics_.add_external_histogram({"tickstream_edge_batch_events", "Events per batch frame (batching or conflation)",
                                   workers_.front()->batch_sizes().bounds(),
                                   [this](auto& buckets, auto& total, auto& count) {
                                     for (const auto& w : workers_) w->batch_sizes().add_totals(buckets, total, count);
                                   }});
  metrics_.add_external_gauge({"tickstream_edge_subscriptions", "Subscriptions held by connections (symbols and "
                               "private streams, including symbols followed for P&L)", [this] {
                                 double total = 0;
                                 for (const auto& w : workers_) total += static_cast<double>(w->subscription_total());
                                 return total;
                               }});
  metrics_.add_external_gauge({"tickstream_edge_redis_command_connected", "1 while the Redis command connection is up",
                               [this] { return redis_.command_connected() ? 1.0 : 0.0; }});
  metrics_.add_external_gauge({"tickstream_edge_redis_subscriber_connected",
                               "1 while the Redis pub/sub connection is up",
                               [this] { return redis_.subscriber_connected() ? 1.0 : 0.0; }});
  metrics_.add_external_gauge({"tickstream_edge_ready", "1 while /readyz answers 200", [this] {
                                 std::string why;
                                 return !draining_.load() && ready(why) ? 1.0 : 0.0;
                               }});
  metrics_.add_external_gauge({"tickstream_edge_probe_round_trip_seconds",
                               "Last readiness probe's round trip through Redis pub/sub",
                               [this] { return static_cast<double>(probe_rtt_us_.load()) / 1e6; }});
  metrics_.add_external_counter({"tickstream_edge_redis_reconnects_total", "Reconnections to Redis",
                                 [this] { return static_cast<double>(redis_.reconnects()); }});
  metrics_.add_external_counter({"tickstream_edge_conflated_total",
                                 "Events replaced by a newer one for the same key before being sent "
                                 "(batching window or slow consumer)",
                                 sum(&worker::conflated)});
}

app::~app() { stop(); }

void app::start() {
  redis_.start();
  // Source heartbeats, for stale/fresh notices: held for the edge's whole life.
  redis_.subscribe(std::string(source_status_channel));
  for (auto& w : workers_) w->start();
  std::vector<worker*> raw;
  for (auto& w : workers_) raw.push_back(w.get());
  const boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address(config_.listen_host),
                                                static_cast<unsigned short>(config_.port));
  listener_ = std::make_shared<listener>(workers_.front()->context(), endpoint, raw, services_,
                                         static_cast<std::size_t>(config_.max_connects_per_ip));
  listener_->run();
  probe_timer_.emplace(workers_.front()->context());
  boost::asio::post(workers_.front()->context(), [this] { send_probe(); });
  common::log_info("edge listening", {{"host", config_.listen_host}, {"port", port()},
                                      {"threads", config_.threads}, {"node_id", config_.node_id}});
}

unsigned short app::port() const { return listener_ ? listener_->port() : 0; }

void app::send_probe() {
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::steady_clock::now().time_since_epoch()).count();
  redis_.command({"PUBLISH", "ts:edge:" + config_.node_id, std::to_string(now)});
  probe_timer_->expires_after(std::chrono::milliseconds(config_.probe_interval_ms));
  probe_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) send_probe();
  });
}

bool app::ready(std::string& why) const {
  if (!redis_.command_connected()) {
    why = "redis_command_down";
  } else if (!redis_.subscriber_connected()) {
    why = "redis_subscriber_down";
  } else {
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now().time_since_epoch()).count();
    const auto seen = probe_seen_ms_.load();
    if (seen == 0 || now_ms - seen > 3 * config_.probe_interval_ms) why = "probe_not_returning";
  }
  return why.empty();
}

std::size_t app::connection_count() const {
  std::size_t n = 0;
  for (const auto& w : workers_) n += w->session_count();
  return n;
}

void app::drain() {
  if (draining_.exchange(true)) return;
  common::log_info("draining", {{"connections", connection_count()}, {"drain_ms", config_.drain_ms}});
  for (auto& w : workers_) w->post_drain(std::chrono::milliseconds(config_.drain_ms));
}

std::string app::admin_stats() const {
  std::string out = R"({"node":")" + config_.node_id + R"(","draining":)" + (draining_.load() ? "true" : "false");
  std::size_t total = 0;
  std::string per_worker;
  std::size_t subscriptions = 0;
  std::vector<std::uint64_t> window;
  for (const auto& w : workers_) {
    total += w->session_count();
    per_worker += (per_worker.empty() ? "" : ",") + std::to_string(w->session_count());
    subscriptions += w->subscription_total();
  }
  const auto now_s = common::now_us() / 1'000'000;
  for (const auto& w : workers_) w->latency().add_window(window, now_s);
  std::uint64_t samples = 0;
  for (const auto c : window) samples += c;
  const auto& bounds = workers_.front()->latency().bounds();
  const auto q = [&](double p) { return std::to_string(worker_histogram::quantile(bounds, window, p)); };
  out += R"(,"connections":{"total":)" + std::to_string(total) + R"(,"per_worker":[)" + per_worker + R"(],"top_users":[)";
  bool first = true;
  for (const auto& [user, n] : census_.top_users(10)) {
    out += std::string(first ? "" : ",") + R"({"user":")" + user + R"(","connections":)" + std::to_string(n) + "}";
    first = false;
  }
  const auto ended = census_.disconnects_last_minute();
  out += R"(]},"subscriptions":{"total":)" + std::to_string(subscriptions) + R"(,"redis_channels":)" +
         std::to_string(redis_.channel_count()) + "}";
  out += R"(,"delivery_latency_seconds":{"window_seconds":60,"samples":)" + std::to_string(samples) +
         R"(,"p50":)" + q(0.50) + R"(,"p95":)" + q(0.95) + R"(,"p99":)" + q(0.99) + "}";
  out += R"(,"disconnects":{"last_minute":)" + std::to_string(ended) + R"(,"per_second":)" +
         std::to_string(static_cast<double>(ended) / 60.0) + "}}";
  return out;
}

void app::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (probe_timer_) {
    boost::asio::post(workers_.front()->context(), [this] { probe_timer_->cancel(); });
  }
  if (listener_) listener_->stop();
  for (auto& w : workers_) w->stop(std::chrono::milliseconds(config_.shutdown_grace_ms));
  for (auto& w : workers_) w->join();
  listener_.reset();
  redis_.stop();
  probe_timer_.reset();  // before the io_context it was made with
  // Destroying the io_contexts destroys the handlers they still hold, and with them any session
  // that did not finish its close handshake in time: its socket closes here.
  workers_.clear();
}

}  // namespace tickstream::edge
