#include "common/redis/redis_client.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <uv.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_set>
#include <utility>

#include "common/log.hpp"
#include "common/redis/redis_uv_events.hpp"

namespace tickstream::common {

namespace {

void append_array_header(std::string& out, std::size_t count) {
  out += '*';
  out += std::to_string(count);
  out += "\r\n";
}

void append_bulk(std::string& out, std::string_view s) {
  out += '$';
  out += std::to_string(s.size());
  out += "\r\n";
  out += s;
  out += "\r\n";
}

// One script call, "<verb> <script> <numkeys> <keys...> <args...>", from its already encoded tail
// (numkeys, keys and args: argc - 2 bulk strings).
std::string format_script_call(std::string_view verb, std::string_view script, std::size_t argc,
                               std::string_view tail) {
  std::string out;
  out.reserve(32 + script.size() + tail.size());
  append_array_header(out, argc);
  append_bulk(out, verb);
  append_bulk(out, script);
  out += tail;
  return out;
}

}  // namespace

std::string format_redis_command(const std::vector<std::string>& args) {
  std::size_t size = 16;
  for (const auto& a : args) size += a.size() + 16;
  std::string out;
  out.reserve(size);
  append_array_header(out, args.size());
  for (const auto& a : args) append_bulk(out, a);
  return out;
}

namespace {

redis_reply convert_reply(const redisReply* r) {
  redis_reply out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      out.type = redis_reply::kind::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      out.type = redis_reply::kind::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = redis_reply::kind::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = redis_reply::kind::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = redis_reply::kind::array;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert_reply(r->element[i]));
      break;
    default:
      break;
  }
  return out;
}

std::string_view reply_string(const redisReply* r) {
  return (r != nullptr && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS))
             ? std::string_view(r->str, r->len)
             : std::string_view{};
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

  // A command between submission and reply; owned by the Redis thread.
  struct pending_command {
    std::string formatted;
    reply_handler done;
    int attempts = 0;
    // An EVALSHA: its script, where numkeys, keys and arguments start in formatted, and how many
    // bulk strings it has, so that a NOSCRIPT reply can be answered with the same call as EVAL.
    const redis_script* script = nullptr;
    std::size_t tail = 0;
    std::size_t argc = 0;
  };

  struct connection {
    impl* owner = nullptr;
    const char* role = "";
    redisAsyncContext* ctx = nullptr;
    bool up = false;
    int attempt = 0;
    uv_timer_t timer{};
  };

  redis_options opts;
  message_handler on_message;

  uv_loop_t loop{};
  uv_async_t wake{};
  std::thread thread;
  std::thread::id loop_thread_id;
  std::atomic<bool> started{false};
  std::atomic<bool> stopping{false};

  std::mutex mu;
  std::vector<op> queue;   // guarded by mu
  bool wake_open = false;  // guarded by mu: wake may be signalled

  // Everything below is touched only on the Redis thread.
  connection cmd;
  connection sub;
  std::deque<pending_command*> backlog;
  // Every script used so far, loaded on each new command connection before the backlog is sent,
  // and the ones loaded on the current connection.
  std::vector<const redis_script*> scripts;
  std::unordered_set<const redis_script*> scripts_loaded;
  channel_table channels;
  activation_handler on_activation;
  uv_timer_t linger_timer{};
  uv_check_t after_io{};  // runs opts.after_io after each poll phase
  std::mt19937_64 rng{std::random_device{}()};
  bool shut_down = false;

  std::atomic<bool> cmd_up{false};
  std::atomic<bool> sub_up{false};
  std::atomic<std::uint64_t> reconnect_count{0};
  std::atomic<std::size_t> channel_gauge{0};
  std::atomic<std::size_t> held_gauge{0};

  impl(redis_options o, message_handler m)
      : opts(std::move(o)), on_message(std::move(m)), channels(opts.control_channel, opts.unsubscribe_linger) {
    cmd.owner = this;
    cmd.role = "command";
    sub.owner = this;
    sub.role = "subscriber";
  }

  void enqueue(op o) {
    // The wake-up is sent under the lock so that it can never race the handle's close at shutdown.
    std::lock_guard lock(mu);
    queue.push_back(std::move(o));
    if (wake_open) uv_async_send(&wake);
  }

  // --- thread body ------------------------------------------------------------------------------

  void run() {
    loop_thread_id = std::this_thread::get_id();
    connect(cmd);
    if (opts.subscriber) connect(sub);
    drain();  // work queued before start()
    uv_run(&loop, UV_RUN_DEFAULT);
  }

  static void on_wake(uv_async_t* handle) { static_cast<impl*>(handle->data)->drain(); }

  void drain() {
    std::vector<op> batch;
    for (;;) {
      {
        std::lock_guard lock(mu);
        batch.swap(queue);
      }
      if (batch.empty()) break;
      for (auto& o : batch) handle(std::move(o));
      batch.clear();
    }
    if (stopping.load() && !shut_down) shutdown();
  }

  void handle(op&& o) {
    switch (o.k) {
      case op::kind::command: {
        auto* pc = new pending_command{std::move(o.data), std::move(o.done), 0, o.script, o.tail, o.argc};
        if (o.script != nullptr && std::find(scripts.begin(), scripts.end(), o.script) == scripts.end()) {
          scripts.push_back(o.script);
        }
        if (shut_down) {
          fail(pc, "shutting_down", "the Redis client is stopping");
        } else if (cmd.up) {
          send(pc);
        } else if (backlog.size() < opts.max_backlog) {
          backlog.push_back(pc);
        } else {
          fail(pc, "queue_full", "Redis is unreachable and the backlog is full");
        }
        break;
      }
      case op::kind::subscribe: apply(channels.acquire(o.data, o.holder, o.tag)); break;
      case op::kind::unsubscribe: apply(channels.release(o.data, o.holder, loop_time())); break;
      case op::kind::pin: apply(channels.pin(o.data)); break;
      case op::kind::task:
        if (o.fn) o.fn();
        break;
    }
  }

  // --- commands ---------------------------------------------------------------------------------

  void send(pending_command* pc) {
    if (pc->script != nullptr) load_script(*pc->script);
    ++pc->attempts;
    if (redisAsyncFormattedCommand(cmd.ctx, &impl::on_command_reply, pc, pc->formatted.data(),
                                   pc->formatted.size()) != REDIS_OK) {
      backlog.push_back(pc);  // the context is going away; the reconnect will re-send it
    }
  }

  // Loads script on the command connection unless it already is: sent ahead of the script's first
  // EVALSHA on this connection, it is executed before it.
  void load_script(const redis_script& script) {
    if (!scripts_loaded.insert(&script).second) return;
    const auto text = script.source();
    redisAsyncCommand(cmd.ctx, nullptr, nullptr, "SCRIPT LOAD %b", text.data(), text.size());
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

  static void on_command_reply(redisAsyncContext* ac, void* r, void* privdata) {
    auto* self = static_cast<impl*>(static_cast<connection*>(ac->data)->owner);
    auto* pc = static_cast<pending_command*>(privdata);
    const auto* reply = static_cast<const redisReply*>(r);
    if (reply == nullptr) {
      // The connection dropped before the reply: re-send after reconnecting, in order.
      if (self->shut_down || self->stopping.load()) {
        fail(pc, "shutting_down", "the Redis client is stopping");
      } else if (pc->attempts >= self->opts.max_attempts) {
        fail(pc, "connection_lost", "the Redis connection was lost " + std::to_string(pc->attempts) + " times");
      } else {
        self->backlog.push_back(pc);
      }
      return;
    }
    if (reply->type == REDIS_REPLY_ERROR && pc->script != nullptr &&
        std::string_view(reply->str, reply->len).starts_with("NOSCRIPT")) {
      // Redis lost the script although this connection loaded it (SCRIPT FLUSH): run it as EVAL,
      // which caches it again. The retry is not a lost connection: it does not count as an attempt.
      self->scripts_loaded.erase(pc->script);
      fall_back_to_eval(pc);
      --pc->attempts;
      self->send(pc);
      return;
    }
    if (pc->done) {
      if (reply->type == REDIS_REPLY_ERROR) {
        pc->done(error{"redis_error", std::string(reply->str, reply->len)});
      } else {
        pc->done(convert_reply(reply));
      }
    }
    delete pc;
  }

  // --- subscriptions ----------------------------------------------------------------------------

  std::chrono::milliseconds loop_time() { return std::chrono::milliseconds(uv_now(&loop)); }

  // Carries out what the channel table decided: commands first, then the holders it tells.
  void apply(channel_actions&& actions) {
    for (const auto& name : actions.subscribe) {
      redisAsyncCommand(sub.ctx, &impl::on_sub_reply, nullptr, "SUBSCRIBE %b", name.data(), name.size());
    }
    for (const auto& name : actions.unsubscribe) {
      redisAsyncCommand(sub.ctx, &impl::on_sub_reply, nullptr, "UNSUBSCRIBE %b", name.data(), name.size());
    }
    channel_gauge.store(channels.referenced_count());
    held_gauge.store(channels.held_count());
    if (on_activation) {
      for (const auto& a : actions.activations) on_activation(a);
    }
    arm_linger_timer();
  }

  // The linger timer runs while a channel lingers, set for the earliest end of a linger (later
  // ones always end later: the linger is the same for every channel).
  void arm_linger_timer() {
    if (shut_down || uv_is_active(reinterpret_cast<uv_handle_t*>(&linger_timer))) return;
    const auto due = channels.next_expiry();
    if (!due) return;
    const auto now = loop_time();
    const auto delay = *due > now ? static_cast<std::uint64_t>((*due - now).count()) : 0;
    uv_timer_start(&linger_timer, &impl::on_linger_timer, delay, 0);
  }

  static void on_linger_timer(uv_timer_t* t) {
    auto* self = static_cast<impl*>(t->data);
    self->apply(self->channels.expire(self->loop_time()));
  }

  static void on_sub_reply(redisAsyncContext* ac, void* r, void* /*privdata*/) {
    auto* self = static_cast<connection*>(ac->data)->owner;
    const auto* reply = static_cast<const redisReply*>(r);
    // A null reply means the connection is being torn down; on_disconnect resets the states.
    if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements < 3) return;
    const auto kind = reply_string(reply->element[0]);
    const auto name = reply_string(reply->element[1]);
    if (kind == "message") {
      if (self->on_message) self->on_message(name, reply_string(reply->element[2]));
    } else if (kind == "subscribe") {
      self->apply(self->channels.subscribed(name));
    } else if (kind == "unsubscribe") {
      self->apply(self->channels.unsubscribed(name));
    }
  }

  // --- connections ------------------------------------------------------------------------------

  void connect(connection& c) {
    c.ctx = redisAsyncConnect(opts.host.c_str(), opts.port);
    if (c.ctx == nullptr || c.ctx->err != 0) {
      log_warn("redis connect failed", {{"client", opts.name}, {"conn", c.role},
                                        {"reason", c.ctx != nullptr ? c.ctx->errstr : "out of memory"}});
      if (c.ctx != nullptr) redisAsyncFree(c.ctx);
      c.ctx = nullptr;
      schedule_reconnect(c);
      return;
    }
    c.ctx->data = &c;
    if (attach_redis_to_uv(c.ctx, &loop) != REDIS_OK) {
      redisAsyncFree(c.ctx);
      c.ctx = nullptr;
      schedule_reconnect(c);
      return;
    }
    redisAsyncSetConnectCallback(c.ctx, &impl::on_connect);
    redisAsyncSetDisconnectCallback(c.ctx, &impl::on_disconnect);
    // hiredis 0.14 has no connect timeout: a connect that neither succeeds nor fails (a black-holed
    // address) is abandoned after connect_timeout and retried.
    uv_timer_start(&c.timer, &impl::on_connect_timeout, static_cast<std::uint64_t>(opts.connect_timeout.count()), 0);
  }

  static void on_connect_timeout(uv_timer_t* t) {
    auto& c = *static_cast<connection*>(t->data);
    auto* self = c.owner;
    if (c.ctx == nullptr || c.up || self->stopping.load()) return;
    log_warn("redis connect timed out", {{"client", self->opts.name}, {"conn", c.role}});
    redisAsyncContext* ctx = c.ctx;
    c.ctx = nullptr;
    redisAsyncFree(ctx);  // not connected yet: no callbacks run
    self->schedule_reconnect(c);
  }

  static void on_connect(const redisAsyncContext* ac, int status) {
    auto& c = *static_cast<connection*>(ac->data);
    auto* self = c.owner;
    uv_timer_stop(&c.timer);
    if (status != REDIS_OK) {
      log_warn("redis connect failed", {{"client", self->opts.name}, {"conn", c.role}, {"reason", ac->errstr}});
      c.ctx = nullptr;  // hiredis frees the context after this callback
      if (!self->stopping.load()) self->schedule_reconnect(c);
      return;
    }
    c.up = true;
    if (c.attempt > 0) self->reconnect_count.fetch_add(1);
    c.attempt = 0;
    log_info("redis connected", {{"client", self->opts.name}, {"conn", c.role}, {"host", self->opts.host},
                                 {"port", self->opts.port}});
    if (!self->opts.password.empty()) {
      redisAsyncCommand(c.ctx, &impl::on_auth_reply, nullptr, "AUTH %b", self->opts.password.data(),
                        self->opts.password.size());
    }
    if (&c == &self->cmd) {
      self->cmd_up.store(true);
      self->scripts_loaded.clear();
      for (const auto* script : self->scripts) self->load_script(*script);
      auto pending = std::move(self->backlog);
      self->backlog.clear();
      for (auto* pc : pending) self->send(pc);
    } else {
      self->sub_up.store(true);
      self->apply(self->channels.connected());
    }
  }

  static void on_auth_reply(redisAsyncContext* ac, void* r, void*) {
    const auto* reply = static_cast<const redisReply*>(r);
    if (reply != nullptr && reply->type == REDIS_REPLY_ERROR) {
      // Nothing on this connection can work: drop it and retry with backoff rather than leave
      // commands failing and subscriptions unconfirmed.
      log_error("redis AUTH refused; reconnecting with backoff",
                {{"client", static_cast<connection*>(ac->data)->owner->opts.name},
                 {"reason", std::string_view(reply->str, reply->len)}});
      redisAsyncDisconnect(ac);
    }
  }

  static void on_disconnect(const redisAsyncContext* ac, int status) {
    auto& c = *static_cast<connection*>(ac->data);
    auto* self = c.owner;
    c.up = false;
    c.ctx = nullptr;  // hiredis frees the context after this callback
    (&c == &self->cmd ? self->cmd_up : self->sub_up).store(false);
    if (self->stopping.load()) return;
    log_warn("redis disconnected", {{"client", self->opts.name}, {"conn", c.role},
                                    {"reason", status == REDIS_OK ? "closed" : ac->errstr}});
    if (&c == &self->sub) {
      self->channels.disconnected();
      uv_timer_stop(&self->linger_timer);  // nothing lingers without a connection
    }
    self->schedule_reconnect(c);
  }

  void schedule_reconnect(connection& c) {
    const auto min_ms = static_cast<std::uint64_t>(opts.reconnect_min.count());
    const auto max_ms = static_cast<std::uint64_t>(opts.reconnect_max.count());
    const int shift = c.attempt < 20 ? c.attempt : 20;
    const std::uint64_t ceiling = std::min(max_ms, min_ms << shift);
    std::uniform_int_distribution<std::uint64_t> jitter(ceiling / 2, ceiling);
    ++c.attempt;
    uv_timer_start(&c.timer, &impl::on_reconnect_timer, jitter(rng), 0);
  }

  static void on_reconnect_timer(uv_timer_t* t) {
    auto& c = *static_cast<connection*>(t->data);
    if (!c.owner->stopping.load()) c.owner->connect(c);
  }

  // --- shutdown ---------------------------------------------------------------------------------

  void shutdown() {
    shut_down = true;
    uv_timer_stop(&cmd.timer);
    uv_timer_stop(&sub.timer);
    uv_timer_stop(&linger_timer);
    uv_close(reinterpret_cast<uv_handle_t*>(&linger_timer), nullptr);
    uv_check_stop(&after_io);
    uv_close(reinterpret_cast<uv_handle_t*>(&after_io), nullptr);
    // Freeing a context runs its pending reply callbacks with a null reply (-> "shutting_down").
    if (cmd.ctx != nullptr) redisAsyncFree(cmd.ctx);
    if (sub.ctx != nullptr) redisAsyncFree(sub.ctx);
    cmd.ctx = sub.ctx = nullptr;
    for (auto* pc : backlog) fail(pc, "shutting_down", "the Redis client is stopping");
    backlog.clear();
    uv_close(reinterpret_cast<uv_handle_t*>(&cmd.timer), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&sub.timer), nullptr);
    {
      std::lock_guard lock(mu);
      wake_open = false;
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&wake), nullptr);
    // uv_run returns once the closes (and hiredis's poll handles) have completed.
  }
};

redis_client::redis_client(redis_options options, message_handler on_message)
    : impl_(std::make_unique<impl>(std::move(options), std::move(on_message))) {}

redis_client::~redis_client() { stop(); }

void redis_client::start() {
  auto& i = *impl_;
  if (i.thread.joinable() || i.stopping.load()) return;
  uv_loop_init(&i.loop);
  uv_async_init(&i.loop, &i.wake, &impl::on_wake);
  i.wake.data = impl_.get();
  uv_timer_init(&i.loop, &i.cmd.timer);
  uv_timer_init(&i.loop, &i.sub.timer);
  i.cmd.timer.data = &i.cmd;
  i.sub.timer.data = &i.sub;
  uv_timer_init(&i.loop, &i.linger_timer);
  i.linger_timer.data = impl_.get();
  uv_check_init(&i.loop, &i.after_io);
  i.after_io.data = impl_.get();
  if (i.opts.after_io) {
    uv_check_start(&i.after_io, [](uv_check_t* h) { static_cast<impl*>(h->data)->opts.after_io(); });
    // A check handle alone does not keep the loop alive; it only runs when the loop does.
    uv_unref(reinterpret_cast<uv_handle_t*>(&i.after_io));
  }
  {
    std::lock_guard lock(i.mu);
    i.wake_open = true;
  }
  i.started.store(true);
  i.thread = std::thread([&i] { i.run(); });
}

void redis_client::stop() {
  auto& i = *impl_;
  if (!i.started.load() || i.stopping.exchange(true)) return;
  assert(std::this_thread::get_id() != i.loop_thread_id && "stop() from the Redis thread");
  {
    std::lock_guard lock(i.mu);
    uv_async_send(&i.wake);
  }
  i.thread.join();
  uv_loop_close(&i.loop);
  // Work queued after the thread drained its queue for the last time.
  std::vector<impl::op> rest;
  {
    std::lock_guard lock(i.mu);
    rest.swap(i.queue);
  }
  for (auto& o : rest) {
    if (o.k == impl::op::kind::command && o.done) o.done(error{"shutting_down", "the Redis client is stopping"});
  }
}

void redis_client::command(const std::vector<std::string>& args, reply_handler done) {
  impl_->enqueue({impl::op::kind::command, format_redis_command(args), std::move(done), {}});
}

void redis_client::eval(const redis_script& script, const std::vector<std::string>& keys,
                        const std::vector<std::string>& args, reply_handler done) {
  std::string tail;
  append_bulk(tail, std::to_string(keys.size()));
  for (const auto& k : keys) append_bulk(tail, k);
  for (const auto& a : args) append_bulk(tail, a);
  impl::op o{impl::op::kind::command, {}, std::move(done), {}};
  o.script = &script;
  o.argc = 3 + keys.size() + args.size();
  o.data = format_script_call("EVALSHA", script.sha1(), o.argc, tail);
  o.tail = o.data.size() - tail.size();
  impl_->enqueue(std::move(o));
}

void redis_client::subscribe(std::string channel, holder_id holder, std::uint64_t tag) {
  impl::op o{impl::op::kind::subscribe, std::move(channel), {}, {}};
  o.holder = holder;
  o.tag = tag;
  impl_->enqueue(std::move(o));
}

void redis_client::unsubscribe(std::string channel, holder_id holder) {
  impl::op o{impl::op::kind::unsubscribe, std::move(channel), {}, {}};
  o.holder = holder;
  impl_->enqueue(std::move(o));
}

void redis_client::subscribe(std::string channel) { impl_->enqueue({impl::op::kind::pin, std::move(channel), {}, {}}); }

void redis_client::post(task fn) { impl_->enqueue({impl::op::kind::task, {}, {}, std::move(fn)}); }

void redis_client::set_activation_handler(activation_handler on_active) {
  assert(!impl_->started.load() && "set the activation handler before start()");
  impl_->on_activation = std::move(on_active);
}

bool redis_client::command_connected() const noexcept { return impl_->cmd_up.load(); }
bool redis_client::subscriber_connected() const noexcept { return impl_->sub_up.load(); }
std::uint64_t redis_client::reconnects() const noexcept { return impl_->reconnect_count.load(); }
std::size_t redis_client::channel_count() const noexcept { return impl_->channel_gauge.load(); }
std::size_t redis_client::held_channel_count() const noexcept { return impl_->held_gauge.load(); }

std::span<const channel_holder> redis_client::holders(std::string_view channel) const {
  assert(std::this_thread::get_id() == impl_->loop_thread_id && "holders() off the Redis thread");
  return impl_->channels.holders(channel);
}

}  // namespace tickstream::common
