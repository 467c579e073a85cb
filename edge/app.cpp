#include "edge/app.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include <malloc.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <system_error>
#include <thread>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/redis/keys.hpp"
#include "edge/fanout/worker.hpp"
#include "edge/net/listener.hpp"
#include "edge/ops/admin_stats.hpp"
#include "edge/ops/worker_histogram.hpp"

namespace tickstream::edge {
namespace {

common::redis_options redis_options_of(const app_config& c) {
  common::redis_options o;
  o.host = c.redis_host;
  o.port = static_cast<int>(c.redis_port);
  o.password = c.redis_password;
  common::apply_redis_access(o, c.redis_access);
  o.subscriber = true;
  o.unsubscribe_linger = std::chrono::milliseconds(c.unsubscribe_linger_ms);
  o.control_channel = common::edge_control_channel(c.node_id);
  o.name = "edge";
  return o;
}

std::int64_t steady_now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
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

common::result<std::unique_ptr<app>> app::make(app_config config) {
  auto auth = config.auth();
  if (!auth) return std::move(auth).err();
  if (auto unreadable = common::check_redis_access_files(config.redis_access)) return std::move(*unreadable);
  if (!config.ops_listen.empty()) {
    const auto colon = config.ops_listen.rfind(':');
    boost::system::error_code ec;
    if (colon == std::string::npos) return common::error{"ops-listen", "must be host:port, e.g. 0.0.0.0:9100"};
    boost::asio::ip::make_address(config.ops_listen.substr(0, colon), ec);
    const auto port = config.ops_listen.substr(colon + 1);
    if (ec || port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(port) > 65535) {
      return common::error{"ops-listen",
                           "must be an address and a port, e.g. 0.0.0.0:9100, got '" + config.ops_listen + "'"};
    }
  }
  for (const auto& [flag, list] : {std::pair{"default-entitlements", &config.default_entitlements},
                                   std::pair{"anonymous-entitlements", &config.anonymous_entitlements}}) {
    if (auto e = entitlements::parse(*list); !e) return common::error{flag, e.err().message};
  }
  if (auto c = app_conflation::parse(config.conflate); !c) return std::move(c).err();
  return std::unique_ptr<app>(new app(std::move(config), std::move(auth).value()));
}

app::app(app_config config, auth_config auth)
    : config_(with_defaults(std::move(config))),
      fanout_(metrics_, common::edge_control_channel(config_.node_id),
              app_conflation::parse(config_.conflate).value()),  // validated by make()
      redis_(with_after_io(redis_options_of(config_), [this] { fanout_.flush(); }),
             [this](std::string_view channel, std::string_view payload) { fanout_.on_message(channel, payload); }),
      leases_(config_.max_connections_per_user > 0
                  ? std::make_unique<connection_leases>(redis_, config_.node_id, config_.max_connections_per_user,
                                                        std::chrono::milliseconds(config_.lease_ttl_ms))
                  : nullptr),
      services_{.node_id = config_.node_id,
                .limits = config_.limits,
                .auth = std::move(auth),
                .metrics = metrics_,
                .redis = redis_,
                .leases = leases_.get()} {
  services_.census = &census_;
  // Validated by make(); "*" needs no check per subscribe, so it is left null.
  const auto entitled = [](const std::string& list) -> std::shared_ptr<const entitlements> {
    if (list == "*") return nullptr;
    return std::make_shared<const entitlements>(entitlements::parse(list).value());
  };
  services_.default_entitled = entitled(config_.default_entitlements);
  services_.anonymous_entitled = entitled(config_.anonymous_entitlements);
  services_.entitlement_records = config_.entitlement_records;
  services_.quota = &quota_;
  services_.connect_limiter = &connect_limiter_;
  services_.proxy_protocol = config_.proxy_protocol;
  services_.deflate = config_.permessage_deflate;
  services_.deflate_threshold = static_cast<std::size_t>(config_.deflate_threshold_bytes);
  if (config_.permessage_deflate && config_.deflate_context_takeover) {
    broadcast_deflate_ = std::make_unique<broadcast_deflater>();
    services_.broadcast_deflate = broadcast_deflate_.get();
    fanout_.compress_broadcasts(*broadcast_deflate_, services_.deflate_threshold);
  }
  services_.trusted_proxies = split_list(config_.trusted_proxies);
  services_.max_channels = static_cast<std::size_t>(config_.max_channels);
  // Less the edge's own source-status and tier channels, so the bound counts what clients made it hold.
  services_.channels_held = [this] {
    const auto n = redis_.channel_count();
    return n > 2 ? n - 2 : 0;
  };
  services_.draining = &draining_;
  services_.ready = [this](std::string& why) { return ready(why); };
  services_.admin_stats = [this] { return admin_stats(); };
  services_.dev_login = config_.dev_login;
  services_.redis_timeout = std::chrono::milliseconds(config_.redis_timeout_ms);
  services_.dev_login_ttl = std::chrono::seconds(config_.dev_login_ttl_s);
  std::vector<worker*> raw;
  for (std::int64_t i = 0; i < config_.threads; ++i) {
    // Heartbeat checks at a quarter of the idle timeout, at most once a second.
    const auto tick = std::min<std::chrono::milliseconds>(std::chrono::seconds(1), config_.limits.idle_timeout / 4);
    workers_.push_back(std::make_unique<worker>(static_cast<std::size_t>(i), fanout_, tick,
                                                std::chrono::milliseconds(config_.stale_after_ms)));
    raw.push_back(workers_.back().get());
  }
  // One worker: the Redis connections run on its event loop, and a message reaches its sessions
  // by plain calls in the turn of the loop that read it. More: a Redis thread of its own, which
  // posts to each worker once per round of I/O.
  const bool one_loop = workers_.size() == 1;
  if (one_loop) redis_.use_loop(workers_.front()->context());
  fanout_.attach(
      redis_, raw,
      [this](std::string_view payload) {
        // A probe came back through the subscriber connection: it is provably delivering.
        readiness_.on_probe(payload, steady_now_us());
      },
      one_loop ? fanout::handoff::direct : fanout::handoff::posted);
  const auto sum = [this](std::uint64_t (worker::*read)() const noexcept) {
    return [this, read] {
      double total = 0;
      for (const auto& w : workers_) total += static_cast<double>(((*w).*read)());
      return total;
    };
  };
  metrics_.add_external_counter(
      {"tickstream_edge_frames_sent_total", "WebSocket frames written to clients", sum(&worker::frames_sent)});
  metrics_.add_external_counter(
      {"tickstream_edge_bytes_sent_total", "Bytes of WebSocket frames written to clients", sum(&worker::bytes_sent)});
  metrics_.add_external_histogram(
      {"tickstream_edge_delivery_latency_seconds", "Ingest receive time to the write to the client's socket completing",
       workers_.front()->latency().bounds(), [this](auto& buckets, auto& total, auto& count) {
         for (const auto& w : workers_) w->latency().add_totals(buckets, total, count);
       }});
  metrics_.add_external_histogram({"tickstream_edge_batch_events", "Events per batch frame (batching or conflation)",
                                   workers_.front()->batch_sizes().bounds(),
                                   [this](auto& buckets, auto& total, auto& count) {
                                     for (const auto& w : workers_) w->batch_sizes().add_totals(buckets, total, count);
                                   }});
  metrics_.add_external_gauge({"tickstream_edge_subscriptions",
                               "Subscriptions held by connections (symbols and "
                               "private streams, including symbols followed for P&L)",
                               [this] {
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
                               [this] { return readiness_.round_trip_seconds(); }});
  metrics_.add_external_counter({"tickstream_edge_redis_reconnects_total", "Reconnections to Redis",
                                 [this] { return static_cast<double>(redis_.reconnects()); }});
  metrics_.add_external_counter({"tickstream_edge_redis_refused_subscriptions_total",
                                 "SUBSCRIBEs Redis refused (an ACL); each failed its own channel only",
                                 [this] { return static_cast<double>(redis_.refused_subscriptions()); }});
  metrics_.add_external_counter({"tickstream_edge_conflated_total",
                                 "Events replaced by a newer one for the same key before being sent "
                                 "(batching window or slow consumer)",
                                 sum(&worker::conflated)});
}

app::~app() { stop(); }

int app::run(common::stop_signal& signals) {
  try {
    start();
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "tickstream-edge: --listen-host/--port/--ops-listen: cannot listen on %s:%lld%s%s: %s\n",
                 config_.listen_host.c_str(), static_cast<long long>(config_.port),
                 config_.ops_listen.empty() ? "" : " or ", config_.ops_listen.c_str(), e.what());
    return 2;
  }
  // SIGTERM or SIGINT: drain (clients are told to reconnect and closed over --drain-ms), then
  // stop once they are gone. A second signal stops at once.
  // Shared with the signal thread, which may outlive this call.
  struct seen {
    std::mutex mu;
    std::condition_variable cv;
    int signals = 0;
  };
  auto state = std::make_shared<seen>();
  signals.start([state](int signo) {
    std::lock_guard lock(state->mu);
    common::log_info(state->signals == 0 ? "draining on signal" : "stopping now on second signal", {{"signal", signo}});
    ++state->signals;
    state->cv.notify_all();
  });
  std::unique_lock lock(state->mu);
  state->cv.wait(lock, [&] { return state->signals > 0; });
  lock.unlock();
  drain();
  // The last clients close at the end of the window; their close handshakes take a moment more.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.drain_ms) + std::chrono::seconds(2);
  lock.lock();
  while (state->signals < 2 && connection_count() > 0 && std::chrono::steady_clock::now() < deadline) {
    state->cv.wait_for(lock, std::chrono::milliseconds(50));
  }
  lock.unlock();
  common::log_info("drained", {{"connections_left", connection_count()}});
  stop();
  common::log_info("stopped");
  return 0;
}

void app::start() {
  // One malloc arena for the whole process (before any thread of ours allocates): per-thread
  // arenas keep what a mass disconnect frees, so an edge would creep up with each wave of clients.
  // The hot path allocates little (frames are shared, queues keep their capacity) and glibc's
  // per-thread cache takes most small allocations without touching the arena's lock.
  ::mallopt(M_ARENA_MAX, 1);
  redis_.start();
  // Source heartbeats, for stale/fresh notices: held for the edge's whole life.
  redis_.subscribe(std::string(source_status_channel));
  // The server API's commands for every edge (disconnect): held for the edge's whole life too.
  redis_.subscribe(std::string(common::tier_control_channel));
  for (auto& w : workers_) w->start();
  std::vector<worker*> raw;
  for (auto& w : workers_) raw.push_back(w.get());
  const boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address(config_.listen_host),
                                                static_cast<unsigned short>(config_.port));
  const bool split = !config_.ops_listen.empty();
  listener_ = std::make_shared<listener>(workers_.front()->context(), endpoint, raw, services_,
                                         split ? port_role::clients : port_role::all);
  listener_->run();
  if (split) {
    const auto colon = config_.ops_listen.rfind(':');
    const boost::asio::ip::tcp::endpoint ops(
        boost::asio::ip::make_address(config_.ops_listen.substr(0, colon)),
        static_cast<unsigned short>(std::stoi(config_.ops_listen.substr(colon + 1))));
    ops_listener_ = std::make_shared<listener>(workers_.front()->context(), ops, raw, services_, port_role::ops);
    ops_listener_->run();
  }
  probe_timer_.emplace(workers_.front()->context());
  boost::asio::post(workers_.front()->context(), [this] { send_probe(); });
  if (config_.dev_login) {
    common::log_warn(
        "DEVELOPMENT SIGN-IN IS ON: POST /api/dev/login lets anyone act as any user; "
        "never run this where real users connect");
  }
  common::log_info(
      "edge listening",
      {{"host", config_.listen_host}, {"port", port()}, {"threads", config_.threads}, {"node_id", config_.node_id}});
}

unsigned short app::port() const { return listener_ ? listener_->port() : 0; }

unsigned short app::ops_port() const { return ops_listener_ ? ops_listener_->port() : 0; }

void app::send_probe() {
  redis_.command({"PUBLISH", common::edge_control_channel(config_.node_id), readiness::probe_payload(steady_now_us())});
  return_memory();
  probe_timer_->expires_after(std::chrono::milliseconds(config_.probe_interval_ms));
  probe_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) send_probe();
  });
}

void app::return_memory() {
  // After many connections or subscriptions went away, give the freed heap back to the system:
  // glibc keeps freed memory in its arenas, so an edge would otherwise stay at its peak size.
  // Redis channels count too: they are released a linger after their last subscriber left, so
  // after a drop the trim is repeated on the next probes, until what lingered has gone as well.
  std::size_t subscriptions = 0;
  for (const auto& w : workers_) subscriptions += w->subscription_total();
  const auto held = connection_count() + subscriptions + redis_.channel_count();
  if (held + held / 10 + 1000 < peak_held_) {
    trims_left_ = 1 + static_cast<int>(config_.unsubscribe_linger_ms / config_.probe_interval_ms) + 1;
    peak_held_ = held;
  }
  if (trims_left_ > 0) {
    ::malloc_trim(0);
    --trims_left_;
  }
  peak_held_ = std::max(peak_held_, held);
}

bool app::ready(std::string& why) const {
  why = readiness_.check(redis_.command_connected(), redis_.subscriber_connected(), steady_now_us());
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
  edge::admin_stats s;
  s.node = config_.node_id;
  s.draining = draining_.load();
  for (const auto& w : workers_) {
    s.connections_per_worker.push_back(w->session_count());
    s.subscriptions += w->subscription_total();
    w->latency().add_window(s.latency_window, common::now_us() / 1'000'000);
  }
  s.latency_bounds = workers_.front()->latency().bounds();
  s.top_users = census_.top_users(10);
  s.redis_channels = redis_.channel_count();
  s.disconnects_last_minute = census_.disconnects_last_minute();
  return render_admin_stats(s);
}

void app::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (probe_timer_) {
    boost::asio::post(workers_.front()->context(), [this] { probe_timer_->cancel(); });
  }
  if (listener_) listener_->stop();
  if (ops_listener_) ops_listener_->stop();
  for (auto& w : workers_) w->stop(std::chrono::milliseconds(config_.shutdown_grace_ms));
  for (auto& w : workers_) w->join();
  listener_.reset();
  ops_listener_.reset();
  redis_.stop();         // (with one worker, on its loop, which no longer runs)
  probe_timer_.reset();  // before the io_context it was made with
  // Destroying the io_contexts destroys the handlers they still hold, and with them any session
  // that did not finish its close handshake in time: its socket closes here.
  workers_.clear();
}

}  // namespace tickstream::edge
