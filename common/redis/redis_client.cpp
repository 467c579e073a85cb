#include "common/redis/redis_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_set>
#include <utility>

#include "common/log.hpp"
#include "common/redis/redis_cluster_client.hpp"
#include "common/redis/redis_link.hpp"
#include "common/redis/redis_loop.hpp"
#include "common/redis/redis_pipeline.hpp"
#include "common/redis/sentinel.hpp"

namespace tickstream::common {

namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using detail::format_script_call;
using detail::redis_link;

std::string address_of(const redis_endpoint& e) { return e.host + ":" + std::to_string(e.port); }

// One command on a connection of its own (a question to a sentinel): connect, AUTH when password
// is set, the command, its reply, close. done runs once, with the reply (an error reply included)
// or why there is none. The link is returned so that it can be closed early.
std::shared_ptr<redis_link> ask_once(asio::io_context& ioc, ssl::context* tls, const redis_endpoint& at,
                                     const std::string& server_name, std::chrono::milliseconds timeout,
                                     const std::string& user, const std::string& password, std::string command,
                                     std::function<void(result<redis_reply>)> done) {
  auto finish = std::make_shared<std::function<void(result<redis_reply>)>>(std::move(done));
  auto once = [finish](result<redis_reply> r) {
    if (!*finish) return;
    auto f = std::move(*finish);
    *finish = nullptr;
    f(std::move(r));
  };
  auto weak = std::make_shared<std::weak_ptr<redis_link>>();
  redis_link::hooks h;
  h.opened = [weak, user, password, command = std::move(command)] {
    auto l = weak->lock();
    if (!password.empty()) {
      l->pipeline().send(
          user.empty() ? encode_redis_command({"AUTH", password}) : encode_redis_command({"AUTH", user, password}),
          redis_slot::auth);
    }
    l->pipeline().send(command, redis_slot::command, 1);
  };
  h.readable = [weak, once] {
    auto l = weak->lock();
    for (;;) {
      auto next = l->pipeline().next();
      if (!next) {
        once(error{"protocol_error", next.err().message});
        break;
      }
      if (!next.value()) return;
      auto& e = *next.value();
      if (e.type == redis_event::kind::auth_refused) {
        once(error{"auth_refused", "AUTH refused: " + std::string(e.text)});
        break;
      }
      if (e.type == redis_event::kind::reply) {
        once(e.value.copy());
        break;
      }
    }
    l->close("done");
  };
  h.closed = [once](const std::string& why) { once(error{"connection_lost", why}); };
  auto link = std::make_shared<redis_link>(ioc, tls, false, std::move(h));
  *weak = link;
  link->open(at.host, at.port, server_name.empty() ? at.host : server_name, timeout);
  return link;
}

}  // namespace

struct redis_client::impl {
  // One unit of work handed to the Redis thread.
  struct op {
    enum class kind { command, subscribe, unsubscribe, pin, task } k;
    std::string data;  // formatted command, or channel name
    reply_handler done;
    task fn;                               // task body
    holder_id holder = 0;                  // subscribe, unsubscribe
    std::uint64_t tag = 0;                 // subscribe
    const redis_script* script = nullptr;  // command: an EVALSHA of this script
    std::size_t tail = 0;                  // with script: where numkeys, keys and arguments start in data
    std::size_t argc = 0;                  // with script: bulk strings in the call
  };

  // A command between submission and reply; owned by the Redis thread. Its address is its token
  // in the pipeline (a timed-out command is deleted at once: the pipeline never hands its token back).
  struct pending_command {
    std::string formatted;
    reply_handler done;
    int attempts = 0;
    // An EVALSHA: its script, where numkeys, keys and arguments start in formatted, and how many
    // bulk strings it has, so that a NOSCRIPT reply can be answered with the same call as EVAL.
    const redis_script* script = nullptr;
    std::size_t tail = 0;
    std::size_t argc = 0;
    std::optional<redis_pipeline::time> deadline;  // command_timeout after it was queued
  };

  struct connection {
    const char* role = "";
    bool subscriber = false;
    std::shared_ptr<redis_link> link;  // null between attempts
    bool up = false;                   // open and authenticated
    int attempt = 0;
    std::optional<asio::steady_timer> retry;
    redis_endpoint node;  // where link goes
    // Sentinel: the question to a sentinel before connecting, which sentinel to ask, and whether
    // the node's ROLE is awaited (nothing else is sent before it proved to be the master).
    std::shared_ptr<redis_link> query;
    std::optional<sentinel_rotation> sentinels;
    bool role_check = false;
  };

  redis_options opts;
  message_handler on_message;

  // Declared before every I/O object below, so that its io_context outlives them.
  detail::redis_loop<op> loop;
  std::optional<ssl::context> tls;
  const std::chrono::steady_clock::time_point epoch = std::chrono::steady_clock::now();

  // Everything below is touched only on the Redis thread (the loop's).
  connection cmd;
  connection sub;
  // Sentinel: the subscription to +switch-master on one sentinel (the next one after it drops).
  std::shared_ptr<redis_link> watch;
  std::optional<asio::steady_timer> watch_retry;
  std::size_t watch_index = 0;
  int watch_attempt = 0;
  std::deque<pending_command*> backlog;
  // Every script used so far, loaded on each new command connection before the backlog is sent,
  // and the ones loaded on the current connection.
  std::vector<const redis_script*> scripts;
  std::unordered_set<const redis_script*> scripts_loaded;
  channel_table channels;
  activation_handler on_activation;
  refusal_handler on_refusal;
  std::optional<asio::steady_timer> linger_timer;
  bool linger_armed = false;
  std::optional<asio::steady_timer> deadline_timer;
  std::optional<redis_pipeline::time> deadline_armed;
  std::mt19937_64 rng{std::random_device{}()};
  bool shut_down = false;

  std::atomic<bool> cmd_up{false};
  std::atomic<bool> sub_up{false};
  std::atomic<std::uint64_t> reconnect_count{0};
  std::atomic<std::uint64_t> refused_count{0};
  std::atomic<std::size_t> channel_gauge{0};
  std::atomic<std::size_t> held_gauge{0};

  impl(redis_options o, message_handler m)
      : opts(std::move(o)), on_message(std::move(m)), channels(opts.control_channel, opts.unsubscribe_linger) {
    cmd.role = "command";
    sub.role = "subscriber";
    sub.subscriber = true;
    if (opts.tls) tls.emplace(make_tls_context(opts));
    if (!opts.sentinels.empty()) {
      cmd.sentinels.emplace(opts.sentinels.size());
      sub.sentinels.emplace(opts.sentinels.size());
    }
  }

  // The TLS settings, checked at start-up: a missing or unreadable file is a configuration error.
  static ssl::context make_tls_context(const redis_options& o) {
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                    ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    ctx.set_verify_mode(ssl::verify_peer);
    if (o.tls_ca_file.empty()) {
      ctx.set_default_verify_paths();
    } else {
      ctx.load_verify_file(o.tls_ca_file);  // throws with the reason: start-up configuration
    }
    if (!o.tls_cert_file.empty()) {
      ctx.use_certificate_chain_file(o.tls_cert_file);
      ctx.use_private_key_file(o.tls_key_file.empty() ? o.tls_cert_file : o.tls_key_file, ssl::context::pem);
    }
    return ctx;
  }

  redis_pipeline::time now() const {
    return std::chrono::duration_cast<redis_pipeline::time>(std::chrono::steady_clock::now() - epoch);
  }

  void enqueue(op o) { loop.enqueue(std::move(o)); }
  void set_error(std::string why) { loop.set_error(std::move(why)); }
  asio::io_context& ioc() { return loop.context(); }
  bool stopping() const { return loop.stopping(); }

  // --- on the loop ------------------------------------------------------------------------------

  void begin() {
    connect(cmd);
    if (opts.subscriber) connect(sub);
    if (!opts.sentinels.empty()) watch_sentinel();
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
      case op::kind::command: {
        auto* pc = new pending_command{std::move(o.data), std::move(o.done), 0, o.script, o.tail, o.argc, {}};
        if (opts.command_timeout.count() > 0) pc->deadline = now() + opts.command_timeout;
        if (o.script != nullptr && std::find(scripts.begin(), scripts.end(), o.script) == scripts.end()) {
          scripts.push_back(o.script);
        }
        if (shut_down) {
          fail(pc, "shutting_down", "the Redis client is stopping");
        } else if (cmd.up) {
          send(pc);
        } else if (backlog.size() < opts.max_backlog) {
          backlog.push_back(pc);
          arm_deadline_timer();
        } else {
          fail(pc, "queue_full", "Redis is unreachable and the backlog is full");
        }
        break;
      }
      case op::kind::subscribe: apply(channels.acquire(o.data, o.holder, o.tag)); break;
      case op::kind::unsubscribe: apply(channels.release(o.data, o.holder, now())); break;
      case op::kind::pin: apply(channels.pin(o.data)); break;
      case op::kind::task:
        if (o.fn) o.fn();
        break;
    }
  }

  // Writes what both connections have gathered: one write per connection per round.
  void flush() {
    if (cmd.link) cmd.link->flush();
    if (sub.link) sub.link->flush();
  }

  // --- commands ---------------------------------------------------------------------------------

  void send(pending_command* pc) {
    if (pc->script != nullptr) load_script(*pc->script);
    ++pc->attempts;
    cmd.link->pipeline().send(pc->formatted, redis_slot::command, reinterpret_cast<std::uintptr_t>(pc), {},
                              pc->deadline);
    arm_deadline_timer();
  }

  // Loads script on the command connection unless it already is: sent ahead of the script's first
  // EVALSHA on this connection, it is executed before it.
  void load_script(const redis_script& script) {
    if (!scripts_loaded.insert(&script).second) return;
    cmd.link->pipeline().send(encode_redis_command({"SCRIPT", "LOAD", script.source()}), redis_slot::quiet);
  }

  // The EVALSHA in pc as the same call with EVAL and the script's text: for a Redis that has lost
  // the script (SCRIPT FLUSH) since this connection loaded it.
  static void fall_back_to_eval(pending_command* pc) {
    pc->formatted =
        format_script_call("EVAL", pc->script->source(), pc->argc, std::string_view(pc->formatted).substr(pc->tail));
    pc->script = nullptr;
  }

  static void fail(pending_command* pc, const char* code, std::string message) {
    if (pc->done) pc->done(error{code, std::move(message)});
    delete pc;
  }

  void on_reply(redis_event& e) {
    if (e.token == 0) {
      // Housekeeping refused (SCRIPT LOAD): the command that needs it will say so itself.
      log_warn("redis refused a housekeeping command", {{"client", opts.name}, {"reason", e.text}});
      return;
    }
    auto* pc = reinterpret_cast<pending_command*>(static_cast<std::uintptr_t>(e.token));
    const bool is_error = e.value.type() == redis_reply::kind::error;
    if (is_error && pc->script != nullptr && e.value.str().starts_with("NOSCRIPT")) {
      // Redis lost the script although this connection loaded it (SCRIPT FLUSH): run it as EVAL,
      // which caches it again. The retry is not a lost connection: it does not count as an attempt.
      scripts_loaded.erase(pc->script);
      fall_back_to_eval(pc);
      --pc->attempts;
      send(pc);
      return;
    }
    if (pc->done) {
      if (is_error) {
        pc->done(error{"redis_error", std::string(e.value.str())});
      } else {
        pc->done(e.value.copy());
      }
    }
    delete pc;
  }

  // A timer at the earliest deadline of a command, sent or waiting in the backlog.
  void arm_deadline_timer() {
    if (opts.command_timeout.count() <= 0 || shut_down) return;
    std::optional<redis_pipeline::time> due;
    if (cmd.link) due = cmd.link->pipeline().next_deadline();
    if (!backlog.empty() && backlog.front()->deadline && (!due || *backlog.front()->deadline < *due)) {
      due = backlog.front()->deadline;
    }
    if (!due || (deadline_armed && *deadline_armed <= *due)) return;
    deadline_armed = due;
    deadline_timer->expires_at(epoch + *due);
    deadline_timer->async_wait([this](error_code ec) {
      if (ec) return;
      deadline_armed.reset();
      expire_commands();
    });
  }

  void expire_commands() {
    const auto t = now();
    if (cmd.link) {
      for (const auto token : cmd.link->pipeline().expire(t)) {
        fail(reinterpret_cast<pending_command*>(static_cast<std::uintptr_t>(token)), "timeout",
             "Redis did not answer within " + std::to_string(opts.command_timeout.count()) + " ms");
      }
    }
    std::erase_if(backlog, [&](pending_command* pc) {
      if (!pc->deadline || *pc->deadline > t) return false;
      fail(pc, "timeout", "Redis was unreachable for " + std::to_string(opts.command_timeout.count()) + " ms");
      return true;
    });
    arm_deadline_timer();
  }

  // --- subscriptions ----------------------------------------------------------------------------

  // Carries out what the channel table decided: commands first, then the holders it tells.
  void apply(channel_actions&& actions) {
    if (sub.link && sub.up) {
      auto& p = sub.link->pipeline();
      for (auto& name : actions.subscribe) {
        const auto command = encode_redis_command({"SUBSCRIBE", name});
        p.send(command, redis_slot::subscribe, 0, std::move(name));
      }
      for (auto& name : actions.unsubscribe) {
        const auto command = encode_redis_command({"UNSUBSCRIBE", name});
        p.send(command, redis_slot::unsubscribe, 0, std::move(name));
      }
    }
    channel_gauge.store(channels.referenced_count());
    held_gauge.store(channels.held_count());
    if (on_activation) {
      for (const auto& a : actions.activations) on_activation(a);
    }
    if (on_refusal) {
      for (const auto& r : actions.refusals) on_refusal(r);
    }
    arm_linger_timer();
  }

  // The linger timer runs while a channel lingers, set for the earliest end of a linger (later
  // ones always end later: the linger is the same for every channel).
  void arm_linger_timer() {
    if (shut_down || linger_armed) return;
    const auto due = channels.next_expiry();
    if (!due) return;
    linger_armed = true;
    linger_timer->expires_at(epoch + *due);
    linger_timer->async_wait([this](error_code ec) {
      linger_armed = false;
      if (shut_down) return;
      if (ec) return arm_linger_timer();  // cancelled by a disconnect: whatever lingers now
      apply(channels.expire(now()));
      flush();
    });
  }

  // --- connections ------------------------------------------------------------------------------

  void connect(connection& c) {
    if (c.sentinels) return ask_sentinel(c, c.sentinels->begin_round());
    open_link(c, redis_endpoint{opts.host, opts.port});
  }

  void open_link(connection& c, const redis_endpoint& node) {
    redis_link::hooks h;
    h.opened = [this, &c] { on_open(c); };
    h.readable = [this, &c] { on_readable(c); };
    h.closed = [this, &c](const std::string& why) { on_closed(c, why); };
    c.node = node;
    c.link = std::make_shared<redis_link>(ioc(), tls ? &*tls : nullptr, c.subscriber, std::move(h));
    c.link->open(node.host, node.port, opts.tls_server_name.empty() ? node.host : opts.tls_server_name,
                 opts.connect_timeout);
  }

  // --- Sentinel ---------------------------------------------------------------------------------

  // Asks sentinel i where the master is, then connects there; a sentinel that cannot say is passed
  // over for the next, and when none could, the connection retries with backoff.
  void ask_sentinel(connection& c, std::size_t i) {
    const auto& at = opts.sentinels[i];
    c.query = ask_once(
        ioc(), tls ? &*tls : nullptr, at, opts.tls_server_name, opts.connect_timeout, opts.sentinel_user,
        opts.sentinel_password, encode_redis_command({"SENTINEL", "get-master-addr-by-name", opts.sentinel_master}),
        [this, &c, at](result<redis_reply> r) {
          c.query.reset();
          if (shut_down || stopping()) return;
          std::string why;
          if (!r) {
            why = r.err().message;
          } else if (auto node = parse_master_address(r.value()); !node) {
            why = node.err().message;
          } else if (!node.value()) {
            why = "does not know a master named " + opts.sentinel_master;
          } else {
            c.sentinels->answered();
            return open_link(c, *node.value());
          }
          why = "sentinel " + address_of(at) + ": " + why;
          if (auto next = c.sentinels->next()) {
            log_warn("redis sentinel could not name the master; asking the next",
                     {{"client", opts.name}, {"conn", c.role}, {"reason", why}});
            return ask_sentinel(c, *next);
          }
          set_error("no sentinel named the master; last: " + why);
          log_warn("redis connect failed",
                   {{"client", opts.name}, {"conn", c.role}, {"reason", "no sentinel named the master"}});
          schedule_reconnect(c);
        });
  }

  // The node's answer to ROLE: a master is used; anything else is dropped and the sentinels asked
  // again. A user the ACL does not allow ROLE is taken at the sentinels' word.
  void on_role(connection& c, const redis_event& e) {
    c.role_check = false;
    auto role = parse_role(e.value.copy());
    if (role && role.value() == "master") return on_ready(c);
    if (!role && role.err().message.starts_with("NOPERM")) {
      log_warn("redis ROLE not allowed for this user: trusting the sentinels",
               {{"client", opts.name}, {"conn", c.role}, {"reason", role.err().message}});
      return on_ready(c);
    }
    c.link->close("not the master: " + address_of(c.node) + " is " +
                  (role ? "a " + role.value() : "unreadable (" + role.err().message + ")"));
  }

  // A subscription to +switch-master on one sentinel, moved to the next when it drops.
  void watch_sentinel() {
    const auto& at = opts.sentinels[watch_index];
    redis_link::hooks h;
    h.opened = [this] {
      auto& p = watch->pipeline();
      if (!opts.sentinel_password.empty()) {
        p.send(opts.sentinel_user.empty() ? encode_redis_command({"AUTH", opts.sentinel_password})
                                          : encode_redis_command({"AUTH", opts.sentinel_user, opts.sentinel_password}),
               redis_slot::auth);
      }
      p.send(encode_redis_command({"SUBSCRIBE", sentinel_switch_channel}), redis_slot::subscribe, 0,
             std::string(sentinel_switch_channel));
    };
    h.readable = [this] { on_watch_readable(); };
    h.closed = [this, at](const std::string& why) {
      watch.reset();
      if (shut_down || stopping()) return;
      log_warn("redis sentinel watch lost", {{"client", opts.name}, {"sentinel", address_of(at)}, {"reason", why}});
      watch_index = (watch_index + 1) % opts.sentinels.size();
      const int shift = std::min(watch_attempt++, 6);
      watch_retry->expires_after(std::min(opts.reconnect_max, opts.reconnect_min * (1 << shift)));
      watch_retry->async_wait([this](error_code ec) {
        if (!ec && !shut_down && !stopping()) watch_sentinel();
      });
    };
    watch = std::make_shared<redis_link>(ioc(), tls ? &*tls : nullptr, true, std::move(h));
    watch->open(at.host, at.port, opts.tls_server_name.empty() ? at.host : opts.tls_server_name, opts.connect_timeout);
  }

  void on_watch_readable() {
    const auto link = watch;
    for (;;) {
      auto next = link->pipeline().next();
      if (!next) return link->close(next.err().message);
      if (!next.value()) return;
      const auto& e = *next.value();
      using k = redis_event::kind;
      if (e.type == k::auth_refused) return link->close("AUTH refused: " + std::string(e.text));
      if (e.type == k::refused) return link->close("SUBSCRIBE refused: " + std::string(e.text));
      if (e.type == k::subscribed) watch_attempt = 0;
      if (e.type != k::message || e.channel != sentinel_switch_channel) continue;
      if (auto to = parse_switch_master(e.payload, opts.sentinel_master)) follow_master(*to);
      if (link->closed()) return;
    }
  }

  // The sentinels promoted another node: both connections go there now (a connection already on
  // it, or on its way to it, stays).
  void follow_master(const redis_endpoint& to) {
    log_warn("redis master switched",
             {{"client", opts.name}, {"master", opts.sentinel_master}, {"to", address_of(to)}});
    for (auto* c : {&cmd, &sub}) {
      if (c == &sub && !opts.subscriber) continue;
      if (c->link && c->node == to) continue;
      // The shortest delay before the next try, and it counts as a reconnection.
      c->attempt = c->link ? 0 : 1;
      if (c->link) {
        c->link->close("the master moved to " + address_of(to));  // reconnects after the shortest delay
      } else if (c->query) {
        c->query->close("the master moved to " + address_of(to));  // that sentinel's answer may be outdated
      } else {
        c->retry->cancel();  // waiting to retry: ask again now
        connect(*c);
      }
    }
    flush();
  }

  // --- connections, continued -------------------------------------------------------------------

  void on_open(connection& c) {
    if (opts.password.empty()) return on_authenticated(c);
    // The connection is usable once Redis accepted AUTH: nothing else is sent before.
    auto auth = opts.user.empty() ? encode_redis_command({"AUTH", opts.password})
                                  : encode_redis_command({"AUTH", opts.user, opts.password});
    c.link->pipeline().send(auth, redis_slot::auth);
  }

  // Sentinel: nothing is sent before the node proved to be the master.
  void on_authenticated(connection& c) {
    if (!c.sentinels) return on_ready(c);
    c.role_check = true;
    c.link->pipeline().send(encode_redis_command({"ROLE"}), redis_slot::command);
  }

  void on_ready(connection& c) {
    c.up = true;
    if (c.attempt > 0) reconnect_count.fetch_add(1);
    c.attempt = 0;
    log_info(
        "redis connected",
        {{"client", opts.name}, {"conn", c.role}, {"host", c.node.host}, {"port", c.node.port}, {"tls", opts.tls}});
    if (&c == &cmd) {
      cmd_up.store(true);
      scripts_loaded.clear();
      for (const auto* script : scripts) load_script(*script);
      auto pending = std::move(backlog);
      backlog.clear();
      for (auto* pc : pending) send(pc);
    } else {
      sub_up.store(true);
      apply(channels.connected());
    }
  }

  // Bytes arrived on c: every event they complete, then the round's after_io, then one write.
  void on_readable(connection& c) {
    const auto link = c.link;  // stays valid if an event closes the connection
    for (;;) {
      auto next = link->pipeline().next();
      if (!next) {
        log_error("redis sent something unreadable; reconnecting",
                  {{"client", opts.name}, {"conn", c.role}, {"reason", next.err().message}});
        link->close(next.err().message);
        break;
      }
      if (!next.value()) break;
      on_event(c, *next.value());
      if (link->closed()) break;
    }
    if (opts.after_io) opts.after_io();
    flush();
  }

  void on_event(connection& c, redis_event& e) {
    using k = redis_event::kind;
    switch (e.type) {
      case k::reply:
        if (c.role_check) {
          on_role(c, e);
        } else {
          on_reply(e);
        }
        break;
      case k::message:
        if (on_message) on_message(e.channel, e.payload);
        break;
      case k::subscribed: apply(channels.subscribed(e.name)); break;
      case k::unsubscribed: apply(channels.unsubscribed(e.name)); break;
      case k::refused:
        // One channel refused (an ACL): its holders hear it; the connection and every other
        // channel carry on.
        refused_count.fetch_add(1);
        log_warn("redis refused a subscription", {{"client", opts.name}, {"channel", e.name}, {"reason", e.text}});
        apply(channels.refused(e.name, e.text));
        break;
      case k::dropped: apply(channels.dropped(e.name)); break;
      case k::pong: break;
      case k::authenticated: on_authenticated(c); break;
      case k::auth_refused:
        // Nothing on this connection can work: drop it and retry with backoff rather than leave
        // commands failing and subscriptions unconfirmed.
        log_error("redis AUTH refused; reconnecting with backoff",
                  {{"client", opts.name}, {"conn", c.role}, {"reason", e.text}});
        c.link->close("AUTH refused: " + std::string(e.text));
        break;
    }
  }

  void on_closed(connection& c, const std::string& why) {
    const bool was_up = c.up;
    auto link = std::move(c.link);
    c.up = false;
    c.role_check = false;
    (&c == &cmd ? cmd_up : sub_up).store(false);
    set_error(why);
    const auto unanswered = link->pipeline().reset();
    if (&c == &cmd) {
      // Commands that got no reply are sent again after reconnecting, in order.
      for (const auto token : unanswered) {
        if (token == 0) continue;  // the ROLE check of a new connection (Sentinel)
        auto* pc = reinterpret_cast<pending_command*>(static_cast<std::uintptr_t>(token));
        if (shut_down || stopping()) {
          fail(pc, "shutting_down", "the Redis client is stopping");
        } else if (pc->attempts >= opts.max_attempts) {
          fail(pc, "connection_lost", "the Redis connection was lost " + std::to_string(pc->attempts) + " times");
        } else {
          backlog.push_back(pc);
        }
      }
    } else if (was_up) {
      channels.disconnected();
      if (linger_armed) linger_timer->cancel();  // nothing lingers without a connection
    }
    if (shut_down || stopping()) return;
    if (was_up) {
      log_warn("redis disconnected", {{"client", opts.name}, {"conn", c.role}, {"reason", why}});
    } else {
      log_warn("redis connect failed", {{"client", opts.name}, {"conn", c.role}, {"reason", why}});
    }
    arm_deadline_timer();
    schedule_reconnect(c);
  }

  void schedule_reconnect(connection& c) {
    const auto min_ms = static_cast<std::uint64_t>(opts.reconnect_min.count());
    const auto max_ms = static_cast<std::uint64_t>(opts.reconnect_max.count());
    const int shift = c.attempt < 20 ? c.attempt : 20;
    const std::uint64_t ceiling = std::min(max_ms, min_ms << shift);
    std::uniform_int_distribution<std::uint64_t> jitter(ceiling / 2, ceiling);
    ++c.attempt;
    c.retry->expires_after(std::chrono::milliseconds(jitter(rng)));
    c.retry->async_wait([this, &c](error_code ec) {
      // (A switch of master may have reconnected already: a timer cancelled too late still fires.)
      if (!ec && !shut_down && !stopping() && !c.link && !c.query) connect(c);
    });
  }

  // --- shutdown ---------------------------------------------------------------------------------

  void shutdown() {
    shut_down = true;
    cmd.retry->cancel();
    sub.retry->cancel();
    linger_timer->cancel();
    deadline_timer->cancel();
    // Closing fails the commands without a reply ("shutting_down").
    if (cmd.link) cmd.link->close("stopping");
    if (sub.link) sub.link->close("stopping");
    if (cmd.query) cmd.query->close("stopping");
    if (sub.query) sub.query->close("stopping");
    if (watch) watch->close("stopping");
    watch_retry->cancel();
    for (auto* pc : backlog) fail(pc, "shutting_down", "the Redis client is stopping");
    backlog.clear();
    loop.release();  // its own thread returns once the aborted operations have completed
  }
};

redis_client::redis_client(redis_options options, message_handler on_message) {
  if (!options.cluster_nodes.empty()) {
    cluster_ = std::make_unique<redis_cluster_client>(std::move(options), std::move(on_message));
  } else {
    impl_ = std::make_unique<impl>(std::move(options), std::move(on_message));
  }
}

redis_client::~redis_client() { stop(); }

void redis_client::use_loop(boost::asio::io_context& loop) {
  if (cluster_) return cluster_->use_loop(loop);
  impl_->loop.use_loop(loop);
}

void redis_client::start() {
  if (cluster_) return cluster_->start();
  auto& i = *impl_;
  if (i.loop.started() || i.loop.stopping()) return;
  auto& ioc = i.loop.context();
  i.cmd.retry.emplace(ioc);
  i.sub.retry.emplace(ioc);
  i.watch_retry.emplace(ioc);
  i.linger_timer.emplace(ioc);
  i.deadline_timer.emplace(ioc);
  i.loop.start([&i] { i.begin(); }, [&i] { i.drain(); });
}

void redis_client::stop() {
  if (cluster_) return cluster_->stop();
  auto& i = *impl_;
  // Work queued after the loop drained its queue for the last time.
  const auto rest = i.loop.stop([&i] {
    if (!i.shut_down) i.shutdown();
  });
  for (const auto& o : rest) {
    if (o.k == impl::op::kind::command && o.done) o.done(error{"shutting_down", "the Redis client is stopping"});
  }
  if (i.loop.external()) {
    // The loop is the caller's: its timers and connections (their sockets and timers) go now,
    // before that io_context does; a closed connection's completion will never run on it.
    i.cmd.retry.reset();
    i.sub.retry.reset();
    i.watch_retry.reset();
    i.linger_timer.reset();
    i.deadline_timer.reset();
    i.cmd.link.reset();
    i.sub.link.reset();
    i.cmd.query.reset();
    i.sub.query.reset();
    i.watch.reset();
  }
}

void redis_client::command(const std::vector<std::string>& args, reply_handler done) {
  if (cluster_) return cluster_->command(args, std::move(done));
  impl_->enqueue({impl::op::kind::command, format_redis_command(args), std::move(done), {}});
}

void redis_client::eval(const redis_script& script, const std::vector<std::string>& keys,
                        const std::vector<std::string>& args, reply_handler done) {
  if (cluster_) return cluster_->eval(script, keys, args, std::move(done));
  std::string tail;
  append_resp_bulk(tail, std::to_string(keys.size()));
  for (const auto& k : keys) append_resp_bulk(tail, k);
  for (const auto& a : args) append_resp_bulk(tail, a);
  impl::op o{impl::op::kind::command, {}, std::move(done), {}};
  o.script = &script;
  o.argc = 3 + keys.size() + args.size();
  o.data = format_script_call("EVALSHA", script.sha1(), o.argc, tail);
  o.tail = o.data.size() - tail.size();
  impl_->enqueue(std::move(o));
}

void redis_client::subscribe(std::string channel, holder_id holder, std::uint64_t tag) {
  if (cluster_) return cluster_->subscribe(std::move(channel), holder, tag);
  impl::op o{impl::op::kind::subscribe, std::move(channel), {}, {}};
  o.holder = holder;
  o.tag = tag;
  impl_->enqueue(std::move(o));
}

void redis_client::unsubscribe(std::string channel, holder_id holder) {
  if (cluster_) return cluster_->unsubscribe(std::move(channel), holder);
  impl::op o{impl::op::kind::unsubscribe, std::move(channel), {}, {}};
  o.holder = holder;
  impl_->enqueue(std::move(o));
}

void redis_client::subscribe(std::string channel) {
  if (cluster_) return cluster_->subscribe(std::move(channel));
  impl_->enqueue({impl::op::kind::pin, std::move(channel), {}, {}});
}

void redis_client::post(task fn) {
  if (cluster_) return cluster_->post(std::move(fn));
  impl_->enqueue({impl::op::kind::task, {}, {}, std::move(fn)});
}

void redis_client::set_activation_handler(activation_handler on_active) {
  if (cluster_) return cluster_->set_activation_handler(std::move(on_active));
  assert(!impl_->loop.started() && "set the activation handler before start()");
  impl_->on_activation = std::move(on_active);
}

void redis_client::set_refusal_handler(refusal_handler on_refused) {
  if (cluster_) return cluster_->set_refusal_handler(std::move(on_refused));
  assert(!impl_->loop.started() && "set the refusal handler before start()");
  impl_->on_refusal = std::move(on_refused);
}

bool redis_client::command_connected() const noexcept {
  return cluster_ ? cluster_->command_connected() : impl_->cmd_up.load();
}
bool redis_client::subscriber_connected() const noexcept {
  return cluster_ ? cluster_->subscriber_connected() : impl_->sub_up.load();
}
std::uint64_t redis_client::reconnects() const noexcept {
  return cluster_ ? cluster_->reconnects() : impl_->reconnect_count.load();
}
std::uint64_t redis_client::refused_subscriptions() const noexcept {
  return cluster_ ? cluster_->refused_subscriptions() : impl_->refused_count.load();
}
std::size_t redis_client::channel_count() const noexcept {
  return cluster_ ? cluster_->channel_count() : impl_->channel_gauge.load();
}
std::size_t redis_client::held_channel_count() const noexcept {
  return cluster_ ? cluster_->held_channel_count() : impl_->held_gauge.load();
}

std::string redis_client::last_error() const {
  if (cluster_) return cluster_->last_error();
  return impl_->loop.last_error();
}

std::span<const channel_holder> redis_client::holders(std::string_view channel) const {
  if (cluster_) return cluster_->holders(channel);
  assert(impl_->loop.on_loop() && "holders() off the Redis thread");
  return impl_->channels.holders(channel);
}

}  // namespace tickstream::common
