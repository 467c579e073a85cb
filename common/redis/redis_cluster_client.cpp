#include "common/redis/redis_cluster_client.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "common/log.hpp"
#include "common/log_throttle.hpp"
#include "common/redis/cluster_slots.hpp"
#include "common/redis/redis_link.hpp"
#include "common/redis/redis_loop.hpp"

namespace tickstream::common {

namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;
using detail::format_script_call;
using detail::redis_link;
using time_ms = redis_pipeline::time;

// How often the client's housekeeping runs: command deadlines, lingering channels, delayed
// retries, topology refreshes. Cheap (a few comparisons per shard).
constexpr std::chrono::milliseconds tick_period{50};
// A command redirected or retried this many times fails with Redis's last answer.
constexpr int max_redirects = 40;
// TRYAGAIN (a multi-key command during a migration) and CLUSTERDOWN are retried after this.
constexpr std::chrono::milliseconds retry_delay{25};
// The shortest spacing of topology reads asked for by redirects, and while a node is unreachable.
constexpr std::chrono::milliseconds refresh_spacing{200};
constexpr std::chrono::milliseconds refresh_while_down{1000};
// A topology read without an answer by then is given up (and tried again elsewhere).
constexpr std::chrono::milliseconds refresh_timeout{3000};

}  // namespace

struct redis_cluster_client::impl {
  struct op {
    enum class kind { command, script, subscribe, unsubscribe, pin, task } k;
    std::string data;  // formatted command; a script call's encoded tail; a channel name
    redis_client::reply_handler done;
    redis_client::task fn;
    holder_id holder = 0;
    std::uint64_t tag = 0;
    const redis_script* script = nullptr;
    std::size_t argc = 0;
    int slot = -1;  // -1: any node
  };

  struct pending_command {
    std::string formatted;
    redis_client::reply_handler done;
    int attempts = 0;
    int redirects = 0;
    const redis_script* script = nullptr;  // an EVALSHA of this (sharded) script
    std::size_t tail = 0;
    std::size_t argc = 0;
    std::optional<time_ms> deadline;
    int slot = -1;
    std::optional<cluster_node> ask;  // the next attempt goes there, after ASKING
    time_ms not_before{0};            // a TRYAGAIN/CLUSTERDOWN retry waits until then
  };

  struct connection {
    const char* role = "";
    bool subscriber = false;
    std::shared_ptr<redis_link> link;
    bool up = false;
    int attempt = 0;
    std::optional<asio::steady_timer> retry;
  };

  // One master: its connections, its channels, the commands waiting for it.
  struct shard {
    shard(cluster_node n, const std::string& control, std::chrono::milliseconds linger)
        : node(std::move(n)), channels(control, linger) {
      cmd.role = "command";
      sub.role = "subscriber";
      sub.subscriber = true;
    }
    cluster_node node;
    connection cmd;
    connection sub;
    channel_table channels;
    std::deque<pending_command*> backlog;
    std::unordered_set<const redis_script*> scripts_loaded;
    bool retired = false;  // no longer a master: being let go
  };

  // A script as loaded on a cluster: PUBLISH turned into SPUBLISH (its own text and SHA1).
  struct sharded_script {
    std::string text;
    std::optional<redis_script> script;
  };

  redis_options opts;
  redis_client::message_handler on_message;
  redis_client::activation_handler on_activation;
  redis_client::refusal_handler on_refusal;

  // Declared before every I/O object below, so that its io_context outlives them.
  detail::redis_loop<op> loop;
  std::optional<ssl::context> tls;
  const std::chrono::steady_clock::time_point epoch = std::chrono::steady_clock::now();

  // The Redis thread's (the loop's).
  std::vector<std::unique_ptr<shard>> shards;
  std::optional<cluster_slot_map> map;
  std::deque<pending_command*> unrouted;  // before the first topology
  std::deque<pending_command*> delayed;   // TRYAGAIN / CLUSTERDOWN, waiting for not_before
  std::vector<op> deferred;               // channel operations before the first topology
  std::unordered_map<const redis_script*, std::unique_ptr<sharded_script>> sharded;
  std::vector<const redis_script*> scripts;  // sharded variants, loaded on every new command connection
  std::optional<asio::steady_timer> tick_timer;
  bool refreshing = false;
  bool want_refresh = true;
  std::uint64_t refresh_generation = 0;
  time_ms last_refresh{-1'000'000};
  std::shared_ptr<redis_link> bootstrap_link;
  std::size_t next_seed = 0;
  shard* current = nullptr;  // the shard whose message is being handled (holders() looks there first)
  // Probes on the control channel: (payload, the shards it came back through), newest last.
  std::deque<std::pair<std::string, std::vector<const shard*>>> probes;
  std::mt19937_64 rng{std::random_device{}()};
  log_throttle unusable_log{std::chrono::seconds(10)};  // "topology unusable"
  bool shut_down = false;

  std::atomic<bool> cmd_up{false};
  std::atomic<bool> sub_up{false};
  std::atomic<std::uint64_t> reconnect_count{0};
  std::atomic<std::uint64_t> refused_count{0};
  std::atomic<std::size_t> channel_gauge{0};
  std::atomic<std::size_t> held_gauge{0};
  std::atomic<std::size_t> shard_gauge{0};

  impl(redis_options o, redis_client::message_handler m) : opts(std::move(o)), on_message(std::move(m)) {
    if (opts.tls) tls.emplace(make_tls_context(opts));
  }

  static ssl::context make_tls_context(const redis_options& o) {
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    ctx.set_verify_mode(ssl::verify_peer);
    if (o.tls_ca_file.empty()) {
      ctx.set_default_verify_paths();
    } else {
      ctx.load_verify_file(o.tls_ca_file);
    }
    if (!o.tls_cert_file.empty()) {
      ctx.use_certificate_chain_file(o.tls_cert_file);
      ctx.use_private_key_file(o.tls_key_file.empty() ? o.tls_cert_file : o.tls_key_file, ssl::context::pem);
    }
    return ctx;
  }

  time_ms now() const { return std::chrono::duration_cast<time_ms>(std::chrono::steady_clock::now() - epoch); }

  void enqueue(op o) { loop.enqueue(std::move(o)); }
  void set_error(std::string why) { loop.set_error(std::move(why)); }
  asio::io_context& ioc() { return loop.context(); }
  bool stopping() const { return loop.stopping(); }

  // --- on the loop ------------------------------------------------------------------------------

  void begin() {
    refresh();
    arm_tick();
  }

  void drain() {
    std::vector<op> batch;
    for (loop.take(batch); !batch.empty(); loop.take(batch)) {
      for (auto& o : batch) handle(std::move(o));
    }
    flush();
    if (stopping() && !shut_down) shutdown();
  }

  void handle(op&& o) {
    switch (o.k) {
      case op::kind::command:
      case op::kind::script: {
        auto* pc = new pending_command;
        pc->done = std::move(o.done);
        pc->slot = o.slot;
        if (opts.command_timeout.count() > 0) pc->deadline = now() + opts.command_timeout;
        if (o.k == op::kind::script) {
          const auto& s = sharded_variant(*o.script);
          pc->script = &s;
          pc->argc = o.argc;
          pc->formatted = format_script_call("EVALSHA", s.sha1(), o.argc, o.data);
          pc->tail = pc->formatted.size() - o.data.size();
        } else {
          pc->formatted = std::move(o.data);
        }
        if (shut_down) return fail(pc, "shutting_down", "the Redis client is stopping");
        dispatch(pc);
        break;
      }
      case op::kind::subscribe:
      case op::kind::unsubscribe:
      case op::kind::pin:
        if (!map) {
          deferred.push_back(std::move(o));
          break;
        }
        channel_op(o);
        break;
      case op::kind::task:
        if (o.fn) o.fn();
        break;
    }
  }

  void channel_op(const op& o) {
    shard* s = home(o.data);
    if (o.k == op::kind::unsubscribe) {
      if (s != nullptr && s->channels.contains(o.data)) apply(*s, s->channels.release(o.data, o.holder, now()));
      return;
    }
    if (s == nullptr) return;
    apply(*s, o.k == op::kind::pin ? s->channels.pin(o.data) : s->channels.acquire(o.data, o.holder, o.tag));
  }

  // The shard whose table holds channel, else the owner of its slot.
  shard* home(std::string_view channel) {
    for (auto& s : shards) {
      if (!s->retired && s->channels.contains(channel)) return s.get();
    }
    if (!map) return nullptr;
    return &ensure_shard(map->owner(key_slot(channel)));
  }

  const redis_script& sharded_variant(const redis_script& original) {
    auto& v = sharded[&original];
    if (!v) {
      v = std::make_unique<sharded_script>();
      v->text = sharded_script_text(original.source());
      v->script.emplace(original.name(), v->text);
      scripts.push_back(&*v->script);
    }
    return *v->script;
  }

  void flush() {
    for (auto& s : shards) {
      if (s->cmd.link) s->cmd.link->flush();
      if (s->sub.link) s->sub.link->flush();
    }
  }

  void update_gauges() {
    bool any_cmd = false;
    bool all_sub = map.has_value();
    std::size_t live = 0;
    std::size_t referenced = 0;
    std::size_t held = 0;
    for (const auto& s : shards) {
      if (s->retired) continue;
      ++live;
      any_cmd = any_cmd || s->cmd.up;
      all_sub = all_sub && (!opts.subscriber || s->sub.up);
      referenced += s->channels.referenced_count();
      held += s->channels.held_count();
    }
    cmd_up.store(any_cmd);
    sub_up.store(opts.subscriber && all_sub && live > 0);
    channel_gauge.store(referenced);
    held_gauge.store(held);
    shard_gauge.store(live);
  }

  // --- shards -----------------------------------------------------------------------------------

  shard& ensure_shard(const cluster_node& node) {
    for (auto& s : shards) {
      if (!s->retired && s->node == node) return *s;
    }
    auto& s = *shards.emplace_back(std::make_unique<shard>(node, opts.control_channel, opts.unsubscribe_linger));
    s.cmd.retry.emplace(ioc());
    s.sub.retry.emplace(ioc());
    log_info("redis cluster master added", {{"client", opts.name}, {"host", node.host}, {"port", node.port}});
    connect(s, s.cmd);
    if (opts.subscriber) connect(s, s.sub);
    update_gauges();
    return s;
  }

  // node no longer serves slots: its connections close, and what waited for it or was subscribed
  // there goes to the new owners (place_channels after this).
  void retire(shard& s) {
    s.retired = true;
    log_info("redis cluster master let go", {{"client", opts.name}, {"host", s.node.host}, {"port", s.node.port}});
    s.cmd.retry->cancel();
    s.sub.retry->cancel();
    if (s.cmd.link) s.cmd.link->close("no longer a master");
    if (s.sub.link) s.sub.link->close("no longer a master");
    auto waiting = std::move(s.backlog);
    s.backlog.clear();
    for (auto* pc : waiting) dispatch(pc);
  }

  // Every idle channel goes to the table of its slot's owner (subscribed there once connected).
  void place_channels() {
    if (!map) return;
    for (std::size_t i = 0; i < shards.size(); ++i) {
      for (const auto& name : shards[i]->channels.idle_channels()) {
        shard& from = *shards[i];
        const auto where = channel_destination(*map, name, from.node, from.retired, from.sub.up);
        if (!where) continue;
        shard& to = ensure_shard(*where);
        if (auto moved = from.channels.take(name)) apply(to, to.channels.adopt(std::move(*moved)));
      }
    }
  }

  // --- topology ---------------------------------------------------------------------------------

  void refresh() {
    if (shut_down) return;
    if (refreshing && now() - last_refresh < refresh_timeout) return;
    refreshing = true;
    want_refresh = false;
    last_refresh = now();
    const auto generation = ++refresh_generation;
    for (auto& s : shards) {
      if (s->retired || !s->cmd.up) continue;
      auto* pc = new pending_command;
      pc->formatted = encode_redis_command({"CLUSTER", "SLOTS"});
      pc->done = [this, generation](result<redis_reply> r) {
        asio::post(ioc(), [this, generation, r = std::move(r)]() mutable { on_topology(generation, std::move(r)); });
      };
      send(*s, pc);
      return;
    }
    bootstrap(generation);
  }

  // No master reachable (at start, or all lost): a connection of its own to a seed or a known
  // master, in turn, for one CLUSTER SLOTS.
  void bootstrap(std::uint64_t generation) {
    std::vector<cluster_node> candidates;
    for (const auto& e : opts.cluster_nodes) candidates.push_back({e.host, e.port});
    for (const auto& s : shards) {
      if (std::none_of(candidates.begin(), candidates.end(), [&](const auto& c) { return c == s->node; })) {
        candidates.push_back(s->node);
      }
    }
    if (candidates.empty()) return;
    const auto node = candidates[next_seed++ % candidates.size()];
    if (bootstrap_link) bootstrap_link->close("superseded");
    auto answered = std::make_shared<bool>(false);
    auto self = std::make_shared<std::weak_ptr<redis_link>>();  // this attempt's link, not a later one's
    redis_link::hooks h;
    h.opened = [this, self] {
      const auto link = self->lock();
      if (!link) return;
      auto& p = link->pipeline();
      if (!opts.password.empty()) {
        p.send(opts.user.empty() ? encode_redis_command({"AUTH", opts.password})
                                 : encode_redis_command({"AUTH", opts.user, opts.password}),
               redis_slot::auth);
      }
      p.send(encode_redis_command({"CLUSTER", "SLOTS"}), redis_slot::command, 1);
    };
    h.readable = [this, self, generation, answered] {
      const auto link = self->lock();
      if (!link) return;
      for (;;) {
        auto next = link->pipeline().next();
        if (!next || !next.value()) break;
        auto& e = *next.value();
        if (e.type == redis_event::kind::auth_refused) {
          link->close("AUTH refused: " + std::string(e.text));
          return;
        }
        if (e.type != redis_event::kind::reply) continue;
        *answered = true;
        result<redis_reply> r = e.value.type() == redis_reply::kind::error
                                    ? result<redis_reply>(error{"redis_error", std::string(e.value.str())})
                                    : result<redis_reply>(e.value.copy());
        link->close("done");
        asio::post(ioc(), [this, generation, r = std::move(r)]() mutable { on_topology(generation, std::move(r)); });
        return;
      }
      link->flush();
    };
    h.closed = [this, generation, answered, node](const std::string& why) {
      if (*answered || generation != refresh_generation) return;
      set_error("cluster topology from " + node.host + ":" + std::to_string(node.port) + ": " + why);
      log_warn("redis cluster topology read failed",
               {{"client", opts.name}, {"host", node.host}, {"port", node.port}, {"reason", why}});
      refreshing = false;
      want_refresh = true;
    };
    bootstrap_link = std::make_shared<redis_link>(ioc(), tls ? &*tls : nullptr, false, std::move(h));
    *self = bootstrap_link;
    bootstrap_link->open(node.host, node.port, opts.tls_server_name.empty() ? node.host : opts.tls_server_name,
                         opts.connect_timeout);
  }

  void on_topology(std::uint64_t generation, result<redis_reply> r) {
    if (shut_down || generation != refresh_generation) return;
    refreshing = false;
    if (!r) {
      set_error("cluster topology: " + r.err().message);
      want_refresh = true;
      return;
    }
    auto m = cluster_slot_map::from_cluster_slots(r.value());
    if (!m) {
      set_error("cluster topology: " + m.err().message);
      // Retried every few hundred ms while a cluster forms: logged once, then every 10 s at most.
      if (const auto left_out = unusable_log.admit(now())) {
        log_warn("redis cluster topology unusable",
                 {{"client", opts.name}, {"reason", m.err().message}, {"suppressed", *left_out}});
      }
      want_refresh = true;
      return;
    }
    unusable_log.clear();
    apply_topology(std::move(m).value());
  }

  void apply_topology(cluster_slot_map m) {
    const bool first = !map;
    map = std::move(m);
    for (const auto& node : map->masters()) ensure_shard(node);
    for (std::size_t i = 0; i < shards.size(); ++i) {
      auto& s = *shards[i];
      if (s.retired) continue;
      if (std::none_of(map->masters().begin(), map->masters().end(), [&](const auto& n) { return n == s.node; })) {
        retire(s);
      }
    }
    place_channels();
    // Commands waiting for an unreachable master whose slot is served elsewhere now.
    for (std::size_t i = 0; i < shards.size(); ++i) {
      auto& s = *shards[i];
      if (s.retired || s.cmd.up || s.backlog.empty()) continue;
      auto waiting = std::move(s.backlog);
      s.backlog.clear();
      for (auto* pc : waiting) dispatch(pc);
    }
    auto waiting = std::move(unrouted);
    unrouted.clear();
    for (auto* pc : waiting) dispatch(pc);
    if (first) {
      auto ops = std::move(deferred);
      deferred.clear();
      for (const auto& o : ops) channel_op(o);
    }
    update_gauges();
    flush();
  }

  // --- commands ---------------------------------------------------------------------------------

  shard* route(const pending_command& pc) {
    if (pc.ask) return &ensure_shard(*pc.ask);
    if (!map) return nullptr;
    if (pc.slot >= 0) return &ensure_shard(map->owner(static_cast<std::uint16_t>(pc.slot)));
    shard* any = nullptr;
    for (auto& s : shards) {
      if (s->retired) continue;
      if (s->cmd.up) return s.get();
      if (any == nullptr) any = s.get();
    }
    return any;
  }

  // A command of a slot with a retry waiting: it waits behind it, so that one slot's commands (one
  // user's events) are carried out in the order they were given.
  bool behind_retry(const pending_command& pc) const {
    return pc.slot >= 0 &&
           std::any_of(delayed.begin(), delayed.end(), [&](const pending_command* d) { return d->slot == pc.slot; });
  }

  void dispatch(pending_command* pc) {
    if (shut_down || stopping()) return fail(pc, "shutting_down", "the Redis client is stopping");
    if (pc->not_before > now() || (!delayed.empty() && behind_retry(*pc))) {
      delayed.push_back(pc);
      return;
    }
    shard* s = route(*pc);
    auto& waiting = s == nullptr ? unrouted : s->backlog;
    if (s != nullptr && s->cmd.up) return send(*s, pc);
    if (waiting.size() >= opts.max_backlog) {
      return fail(pc, "queue_full", "Redis is unreachable and the backlog is full");
    }
    waiting.push_back(pc);
  }

  void send(shard& s, pending_command* pc) {
    auto& p = s.cmd.link->pipeline();
    if (pc->script != nullptr && s.scripts_loaded.insert(pc->script).second) {
      p.send(encode_redis_command({"SCRIPT", "LOAD", pc->script->source()}), redis_slot::quiet);
    }
    if (pc->ask) {
      p.send(encode_redis_command({"ASKING"}), redis_slot::quiet);  // right before the command it is for
      pc->ask.reset();
    }
    ++pc->attempts;
    p.send(pc->formatted, redis_slot::command, reinterpret_cast<std::uintptr_t>(pc), {}, pc->deadline);
  }

  static void fail(pending_command* pc, const char* code, std::string message) {
    if (pc->done) pc->done(error{code, std::move(message)});
    delete pc;
  }

  void on_reply(redis_event& e) {
    if (e.token == 0) {
      log_warn("redis refused a housekeeping command", {{"client", opts.name}, {"reason", e.text}});
      return;
    }
    auto* pc = reinterpret_cast<pending_command*>(static_cast<std::uintptr_t>(e.token));
    if (e.value.type() == redis_reply::kind::error) {
      const auto text = e.value.str();
      if (pc->script != nullptr && text.starts_with("NOSCRIPT")) {
        for (auto& s : shards) s->scripts_loaded.erase(pc->script);
        pc->formatted = format_script_call("EVAL", pc->script->source(), pc->argc,
                                           std::string_view(pc->formatted).substr(pc->tail));
        pc->script = nullptr;
        --pc->attempts;
        return dispatch(pc);
      }
      const auto redirect = parse_cluster_redirect(text);
      const bool busy = text.starts_with("TRYAGAIN") || text.starts_with("CLUSTERDOWN");
      if ((redirect || busy) && ++pc->redirects <= max_redirects) {
        --pc->attempts;  // not a lost connection
        if (redirect && redirect->ask) {
          pc->ask = redirect->node;
        } else if (redirect) {
          if (map) map->move(redirect->slot, redirect->node);
          want_refresh = true;
        } else {
          pc->not_before = now() + retry_delay;
          want_refresh = want_refresh || text.starts_with("CLUSTERDOWN");
        }
        return dispatch(pc);
      }
      if (pc->done) pc->done(error{"redis_error", std::string(text)});
      delete pc;
      return;
    }
    if (pc->done) pc->done(e.value.copy());
    delete pc;
  }

  void expire_commands() {
    const auto t = now();
    const auto expired = [&](pending_command* pc) {
      if (!pc->deadline || *pc->deadline > t) return false;
      fail(pc, "timeout", "Redis did not answer within " + std::to_string(opts.command_timeout.count()) + " ms");
      return true;
    };
    for (auto& s : shards) {
      if (s->cmd.link) {
        for (const auto token : s->cmd.link->pipeline().expire(t)) {
          fail(reinterpret_cast<pending_command*>(static_cast<std::uintptr_t>(token)), "timeout",
               "Redis did not answer within " + std::to_string(opts.command_timeout.count()) + " ms");
        }
      }
      std::erase_if(s->backlog, expired);
    }
    std::erase_if(unrouted, expired);
    std::erase_if(delayed, expired);
  }

  // --- subscriptions ----------------------------------------------------------------------------

  void apply(shard& s, channel_actions&& actions) {
    if (s.sub.link && s.sub.up) {
      auto& p = s.sub.link->pipeline();
      for (auto& name : actions.subscribe) {
        const bool control = name == opts.control_channel;
        const auto command = encode_redis_command({control ? "SUBSCRIBE" : "SSUBSCRIBE", name});
        p.send(command, control ? redis_slot::subscribe : redis_slot::ssubscribe, 0, std::move(name));
      }
      for (auto& name : actions.unsubscribe) {
        const bool control = name == opts.control_channel;
        const auto command = encode_redis_command({control ? "UNSUBSCRIBE" : "SUNSUBSCRIBE", name});
        p.send(command, control ? redis_slot::unsubscribe : redis_slot::sunsubscribe, 0, std::move(name));
      }
    }
    update_gauges();
    if (on_activation) {
      for (const auto& a : actions.activations) on_activation(a);
    }
    if (on_refusal) {
      for (const auto& r : actions.refusals) on_refusal(r);
    }
  }

  // A probe came back through s: passed on once every master's subscriber connection delivered it.
  void on_probe(const shard& s, std::string_view payload) {
    auto it = std::find_if(probes.begin(), probes.end(), [&](const auto& p) { return p.first == payload; });
    if (it == probes.end()) {
      probes.emplace_back(std::string(payload), std::vector<const shard*>{});
      if (probes.size() > 8) probes.pop_front();
      it = std::prev(probes.end());
    }
    if (std::find(it->second.begin(), it->second.end(), &s) == it->second.end()) it->second.push_back(&s);
    const auto live = static_cast<std::size_t>(
        std::count_if(shards.begin(), shards.end(), [](const auto& x) { return !x->retired; }));
    const auto seen = static_cast<std::size_t>(std::count_if(it->second.begin(), it->second.end(), [&](const shard* x) {
      return std::any_of(shards.begin(), shards.end(), [&](const auto& y) { return y.get() == x && !y->retired; });
    }));
    if (seen < live) return;
    probes.erase(it);
    if (on_message) on_message(opts.control_channel, payload);
  }

  // --- connections ------------------------------------------------------------------------------

  void connect(shard& s, connection& c) {
    redis_link::hooks h;
    h.opened = [this, &s, &c] { on_open(s, c); };
    h.readable = [this, &s, &c] { on_readable(s, c); };
    h.closed = [this, &s, &c](const std::string& why) { on_closed(s, c, why); };
    c.link = std::make_shared<redis_link>(ioc(), tls ? &*tls : nullptr, c.subscriber, std::move(h));
    c.link->open(s.node.host, s.node.port, opts.tls_server_name.empty() ? s.node.host : opts.tls_server_name,
                 opts.connect_timeout);
  }

  void on_open(shard& s, connection& c) {
    if (opts.password.empty()) return on_ready(s, c);
    auto auth = opts.user.empty() ? encode_redis_command({"AUTH", opts.password})
                                  : encode_redis_command({"AUTH", opts.user, opts.password});
    c.link->pipeline().send(auth, redis_slot::auth);
  }

  void on_ready(shard& s, connection& c) {
    c.up = true;
    if (c.attempt > 0) reconnect_count.fetch_add(1);
    c.attempt = 0;
    log_info("redis connected", {{"client", opts.name},
                                 {"conn", c.role},
                                 {"host", s.node.host},
                                 {"port", s.node.port},
                                 {"tls", opts.tls},
                                 {"cluster", true}});
    if (&c == &s.cmd) {
      s.scripts_loaded.clear();
      auto pending = std::move(s.backlog);
      s.backlog.clear();
      for (auto* pc : pending) dispatch(pc);
    } else {
      apply(s, s.channels.connected());
    }
    update_gauges();
  }

  void on_readable(shard& s, connection& c) {
    const auto link = c.link;
    for (;;) {
      auto next = link->pipeline().next();
      if (!next) {
        log_error("redis sent something unreadable; reconnecting",
                  {{"client", opts.name}, {"conn", c.role}, {"reason", next.err().message}});
        link->close(next.err().message);
        break;
      }
      if (!next.value()) break;
      on_event(s, c, *next.value());
      if (link->closed()) break;
    }
    if (opts.after_io) opts.after_io();
    flush();
  }

  void on_event(shard& s, connection& c, redis_event& e) {
    using k = redis_event::kind;
    switch (e.type) {
      case k::reply: on_reply(e); break;
      case k::message:
        if (e.channel == opts.control_channel) {
          on_probe(s, e.payload);
        } else if (on_message) {
          current = &s;
          on_message(e.channel, e.payload);
          current = nullptr;
        }
        break;
      case k::subscribed: apply(s, s.channels.subscribed(e.name)); break;
      case k::unsubscribed: apply(s, s.channels.unsubscribed(e.name)); break;
      case k::refused:
        if (const auto redirect = parse_cluster_redirect(e.text); redirect && map) {
          // The slot lives elsewhere (it moved, or the map is behind): subscribed on its owner.
          s.channels.bounce(e.name);
          map->move(redirect->slot, redirect->node);
          want_refresh = true;
          place_channels();
          break;
        }
        if (e.text.starts_with("TRYAGAIN") || e.text.starts_with("CLUSTERDOWN")) {
          // Not a refusal of the channel: subscribed again after the next topology read.
          s.channels.bounce(e.name);
          want_refresh = true;
          break;
        }
        refused_count.fetch_add(1);
        log_warn("redis refused a subscription", {{"client", opts.name}, {"channel", e.name}, {"reason", e.text}});
        apply(s, s.channels.refused(e.name, e.text));
        break;
      case k::dropped:
        // The node ended a shard channel by itself: its slot moved. Subscribed again here first;
        // the node's MOVED answer then sends it to the new owner.
        want_refresh = true;
        apply(s, s.channels.dropped(e.name));
        break;
      case k::pong: break;
      case k::authenticated: on_ready(s, c); break;
      case k::auth_refused:
        log_error("redis AUTH refused; reconnecting with backoff",
                  {{"client", opts.name}, {"conn", c.role}, {"reason", e.text}});
        c.link->close("AUTH refused: " + std::string(e.text));
        break;
    }
  }

  void on_closed(shard& s, connection& c, const std::string& why) {
    const bool was_up = c.up;
    auto link = std::move(c.link);
    c.up = false;
    set_error(s.node.host + ":" + std::to_string(s.node.port) + ": " + why);
    const auto unanswered = link->pipeline().reset();
    if (&c == &s.cmd) {
      for (const auto token : unanswered) {
        auto* pc = reinterpret_cast<pending_command*>(static_cast<std::uintptr_t>(token));
        if (shut_down || stopping()) {
          fail(pc, "shutting_down", "the Redis client is stopping");
        } else if (pc->attempts >= opts.max_attempts) {
          fail(pc, "connection_lost", "the Redis connection was lost " + std::to_string(pc->attempts) + " times");
        } else if (s.retired) {
          dispatch(pc);
        } else {
          s.backlog.push_back(pc);
        }
      }
    } else if (was_up) {
      s.channels.disconnected();
    }
    update_gauges();
    if (shut_down || stopping() || s.retired) return;
    log_warn(was_up ? "redis disconnected" : "redis connect failed",
             {{"client", opts.name}, {"conn", c.role}, {"host", s.node.host}, {"port", s.node.port}, {"reason", why}});
    want_refresh = true;  // a failed master's replica may take over
    schedule_reconnect(c, s);
  }

  void schedule_reconnect(connection& c, shard& s) {
    const auto min_ms = static_cast<std::uint64_t>(opts.reconnect_min.count());
    const auto max_ms = static_cast<std::uint64_t>(opts.reconnect_max.count());
    const int shift = c.attempt < 20 ? c.attempt : 20;
    const std::uint64_t ceiling = std::min(max_ms, min_ms << shift);
    std::uniform_int_distribution<std::uint64_t> jitter(ceiling / 2, ceiling);
    ++c.attempt;
    c.retry->expires_after(std::chrono::milliseconds(jitter(rng)));
    c.retry->async_wait([this, &s, &c](error_code ec) {
      if (!ec && !shut_down && !stopping() && !s.retired) connect(s, c);
    });
  }

  // --- housekeeping -----------------------------------------------------------------------------

  void arm_tick() {
    tick_timer->expires_after(tick_period);
    tick_timer->async_wait([this](error_code ec) {
      if (ec || shut_down) return;
      tick();
      arm_tick();
    });
  }

  void tick() {
    const auto t = now();
    expire_commands();
    // Retries that are due, in order; one not yet due holds back the later ones of its slot.
    auto waiting = std::move(delayed);
    delayed.clear();
    for (auto* pc : waiting) dispatch(pc);
    for (auto& s : shards) {
      if (!s->retired) apply(*s, s->channels.expire(t));
    }
    const bool any_down = std::any_of(shards.begin(), shards.end(), [&](const auto& s) {
      return !s->retired && (!s->cmd.up || (opts.subscriber && !s->sub.up));
    });
    const auto since = t - last_refresh;
    if ((want_refresh && since >= refresh_spacing) || (any_down && since >= refresh_while_down) ||
        since >= opts.cluster_refresh || (refreshing && since >= refresh_timeout)) {
      refreshing = refreshing && since < refresh_timeout;
      refresh();
    }
    // Retired shards whose connections have closed can go (nothing refers to them any more).
    std::erase_if(shards, [](const auto& s) { return s->retired && !s->cmd.link && !s->sub.link; });
    flush();
  }

  // --- shutdown ---------------------------------------------------------------------------------

  void shutdown() {
    shut_down = true;
    tick_timer->cancel();
    if (bootstrap_link) bootstrap_link->close("stopping");
    for (auto& s : shards) {
      s->cmd.retry->cancel();
      s->sub.retry->cancel();
      if (s->cmd.link) s->cmd.link->close("stopping");
      if (s->sub.link) s->sub.link->close("stopping");
      for (auto* pc : s->backlog) fail(pc, "shutting_down", "the Redis client is stopping");
      s->backlog.clear();
    }
    for (auto* pc : unrouted) fail(pc, "shutting_down", "the Redis client is stopping");
    unrouted.clear();
    for (auto* pc : delayed) fail(pc, "shutting_down", "the Redis client is stopping");
    delayed.clear();
    loop.release();
  }
};

redis_cluster_client::redis_cluster_client(redis_options options, redis_client::message_handler on_message)
    : impl_(std::make_unique<impl>(std::move(options), std::move(on_message))) {}

redis_cluster_client::~redis_cluster_client() { stop(); }

void redis_cluster_client::set_activation_handler(redis_client::activation_handler on_active) {
  assert(!impl_->loop.started() && "set the activation handler before start()");
  impl_->on_activation = std::move(on_active);
}

void redis_cluster_client::set_refusal_handler(redis_client::refusal_handler on_refused) {
  assert(!impl_->loop.started() && "set the refusal handler before start()");
  impl_->on_refusal = std::move(on_refused);
}

void redis_cluster_client::use_loop(boost::asio::io_context& loop) { impl_->loop.use_loop(loop); }

void redis_cluster_client::start() {
  auto& i = *impl_;
  if (i.loop.started() || i.loop.stopping()) return;
  i.tick_timer.emplace(i.loop.context());
  i.loop.start([&i] { i.begin(); }, [&i] { i.drain(); });
}

void redis_cluster_client::stop() {
  auto& i = *impl_;
  const auto rest = i.loop.stop([&i] {
    if (!i.shut_down) i.shutdown();
  });
  for (const auto& o : rest) {
    if (o.done) o.done(error{"shutting_down", "the Redis client is stopping"});
  }
  if (i.loop.external()) {
    // The loop is the caller's: the timers and connections (their sockets and timers) go now,
    // before that io_context does; a closed connection's completion will never run on it.
    i.tick_timer.reset();
    i.bootstrap_link.reset();
    for (auto& s : i.shards) {
      s->cmd.retry.reset();
      s->sub.retry.reset();
      s->cmd.link.reset();
      s->sub.link.reset();
    }
  }
}

void redis_cluster_client::command(const std::vector<std::string>& args, redis_client::reply_handler done) {
  impl::op o{impl::op::kind::command, {}, std::move(done), {}};
  const auto key = routing_key(args);
  if (key) o.slot = key_slot(*key);
  // PUBLISH on a cluster is SPUBLISH (the tier's channels are shard channels), except on the
  // control channel, whose probe must reach every node.
  const bool publish = args.size() == 3 && (args[0] == "PUBLISH" || args[0] == "publish");
  if (publish && args[1] != impl_->opts.control_channel) {
    o.data = encode_redis_command({"SPUBLISH", args[1], args[2]});
  } else {
    o.data = format_redis_command(args);
    if (publish) o.slot = -1;
  }
  impl_->enqueue(std::move(o));
}

void redis_cluster_client::eval(const redis_script& script, const std::vector<std::string>& keys,
                                const std::vector<std::string>& args, redis_client::reply_handler done) {
  impl::op o{impl::op::kind::script, {}, std::move(done), {}};
  append_resp_bulk(o.data, std::to_string(keys.size()));
  for (const auto& k : keys) append_resp_bulk(o.data, k);
  for (const auto& a : args) append_resp_bulk(o.data, a);
  o.script = &script;
  o.argc = 3 + keys.size() + args.size();
  if (!keys.empty()) o.slot = key_slot(keys.front());
  impl_->enqueue(std::move(o));
}

void redis_cluster_client::subscribe(std::string channel, holder_id holder, std::uint64_t tag) {
  impl::op o{impl::op::kind::subscribe, std::move(channel), {}, {}};
  o.holder = holder;
  o.tag = tag;
  impl_->enqueue(std::move(o));
}

void redis_cluster_client::unsubscribe(std::string channel, holder_id holder) {
  impl::op o{impl::op::kind::unsubscribe, std::move(channel), {}, {}};
  o.holder = holder;
  impl_->enqueue(std::move(o));
}

void redis_cluster_client::subscribe(std::string channel) {
  impl_->enqueue({impl::op::kind::pin, std::move(channel), {}, {}});
}

void redis_cluster_client::post(redis_client::task fn) {
  impl_->enqueue({impl::op::kind::task, {}, {}, std::move(fn)});
}

bool redis_cluster_client::command_connected() const noexcept { return impl_->cmd_up.load(); }
bool redis_cluster_client::subscriber_connected() const noexcept { return impl_->sub_up.load(); }
std::uint64_t redis_cluster_client::reconnects() const noexcept { return impl_->reconnect_count.load(); }
std::uint64_t redis_cluster_client::refused_subscriptions() const noexcept { return impl_->refused_count.load(); }
std::size_t redis_cluster_client::channel_count() const noexcept { return impl_->channel_gauge.load(); }
std::size_t redis_cluster_client::held_channel_count() const noexcept { return impl_->held_gauge.load(); }
std::size_t redis_cluster_client::shard_count() const noexcept { return impl_->shard_gauge.load(); }

std::string redis_cluster_client::last_error() const { return impl_->loop.last_error(); }

std::span<const channel_holder> redis_cluster_client::holders(std::string_view channel) const {
  assert(impl_->loop.on_loop() && "holders() off the Redis thread");
  const auto& i = *impl_;
  if (i.current != nullptr && i.current->channels.contains(channel)) return i.current->channels.holders(channel);
  for (const auto& s : i.shards) {
    if (s->channels.contains(channel)) return s->channels.holders(channel);
  }
  return {};
}

}  // namespace tickstream::common
