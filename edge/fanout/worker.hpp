#pragma once
// One edge worker: an io_context on its own thread, the sessions pinned to it for life, and its
// own subscription index (route -> sessions: the session level of the reference counts; the
// channel level is the Redis client's channel table, where this worker is one holder). It reaches
// the fan-out only through route_registry and is reached only through fanout_target.
// Threading: everything except context(), start(), stop(), join() and post_*() runs on this
// worker's thread only, so none of it takes a lock.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/block_pool.hpp"
#include "edge/fanout/fanout_target.hpp"
#include "edge/fanout/route_registry.hpp"
#include "edge/fanout/session_roster.hpp"
#include "edge/fanout/subscription_index.hpp"
#include "edge/ops/worker_histogram.hpp"
#include "edge/protocol/frame.hpp"

namespace tickstream::edge {

class frame_sink;

class worker final : public fanout_target {
 public:
  // routes: where this worker takes and lets go of routes (the fan-out). tick: how often sessions
  // are checked for heartbeats and timeouts; stale_after: a source without a good heartbeat for
  // this long is stale.
  worker(std::size_t id, route_registry& routes, std::chrono::milliseconds tick,
         std::chrono::milliseconds stale_after = std::chrono::seconds(30));
  ~worker();
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  // Sessions the heartbeat sweep visits per turn of the event loop. A visit may cost a system
  // call (the kernel's send queue of a session that wrote) and a ping: with 1,024 per turn, a
  // worker of 10,000 busy connections held every message for about 2 ms ten times a second.
  static constexpr std::size_t sweep_batch = 64;

  std::size_t id() const noexcept { return id_; }
  boost::asio::io_context& context() noexcept { return ioc_; }
  // Memory for the write operations of this worker's sessions (its thread only): a fan-out
  // starts one write per connection, and each would otherwise be an allocation. A block holds
  // the operation of a one-buffer write (288 bytes with Boost 1.81; a test checks that it fits);
  // a gathered write's is larger and is allocated, once per batch of frames.
  static constexpr std::size_t write_block_size = 320;
  common::block_pool& write_memory() noexcept { return write_memory_; }

  void start();
  // Closes every session with 1001 (going away) and lets the thread finish once they are gone,
  // or after grace at the latest.
  void stop(std::chrono::milliseconds grace);
  void join();

  // fanout_target, from the Redis thread: frames for the sessions subscribed to their routes;
  // Redis confirmed a route this worker acquired as `generation` (a stale confirmation of an
  // earlier acquisition is ignored; a repeat after a reconnect makes a user's sessions check for
  // a gap); a source's heartbeat.
  void post_deliver(std::vector<frame_ptr> frames) override;
  void post_activate(std::string route, std::uint64_t generation) override;
  void post_refuse(std::string route, std::uint64_t generation) override;
  void post_source_status(std::string source, bool connected) override;
  void post_revoke(std::string user, std::string session, std::string reason) override;
  void post_broadcast(frame_ptr f) override;
  void post_entitlements(std::string user, std::string plan) override;
  // fanout_target, the same on this worker's thread (the Redis client runs on its loop).
  void deliver(const frame_ptr& f) override;
  void activate(const std::string& symbol, std::uint64_t generation) override;
  void refuse(const std::string& symbol, std::uint64_t generation) override;
  void source_status(const std::string& source, bool connected) override;
  void revoke(const std::string& user, const std::string& session, const std::string& reason) override;
  void broadcast(const frame_ptr& f) override;
  void entitlements_changed(const std::string& user, const std::string& plan) override;
  void delivered() override { write_queued(); }

  // --- on this worker's thread --------------------------------------------------------------
  void add_session(frame_sink* s);
  // Removes s from every subscription; called by the session's destructor.
  void remove_session(frame_sink* s);
  // Subscribes s to symbol; on_active runs (on this thread) once ticks of symbol are flowing to
  // this worker, which may be at once. If Redis refuses the symbol's channel instead (an ACL),
  // s no longer holds it and on_refused runs (on_active when on_refused is empty).
  void subscribe(frame_sink* s, const std::string& symbol, std::function<void()> on_active,
                 std::function<void()> on_refused = {});
  // Returns false if s was not subscribed to symbol.
  bool unsubscribe(frame_sink* s, const std::string& symbol);
  std::size_t subscription_count(frame_sink* s) const { return index_.key_count(s); }
  bool is_subscribed(frame_sink* s, const std::string& symbol) const { return index_.contains(symbol, s); }
  // Whether any session on this worker holds key (so its channel is held already).
  bool holds(std::string_view key) const { return index_.subscriber_count(key) > 0; }
  template <class Fn>
  void for_each_subscription(frame_sink* s, Fn&& fn) const {
    index_.for_each_key_of(s, fn);
  }
  // The source of the latest tick of symbol this worker delivered (null: none yet).
  const std::string* tick_source(std::string_view symbol) const;
  // Sources stale right now, with the time (µs) of their last good heartbeat.
  std::vector<std::pair<std::string, std::int64_t>> stale_sources() const;
  // Sessions report what they wrote; read from any thread for metrics.
  void count_sent(std::size_t frames, std::size_t bytes) noexcept {
    frames_sent_.fetch_add(frames, std::memory_order_relaxed);
    bytes_sent_.fetch_add(bytes, std::memory_order_relaxed);
  }
  // s queued frames to write: it writes them (write_queued) once the round of Redis I/O has
  // queued everything else it delivers (delivered()), so that a session's frames of one round
  // (the ticks of one read from Redis, say) leave in one send() and a fan-out costs no
  // asynchronous operation per connection. Outside a round, in a handler posted for it.
  void write_soon(std::shared_ptr<frame_sink> s);
  // A session's gathered write completed (ok) or failed: its frames' delivery latency (from
  // ingest's receive time, one clock read per write) and what went out, as written.
  void wrote(const std::vector<frame_ptr>& frames, std::size_t bytes, bool ok);
  void count_conflated() noexcept { conflated_.fetch_add(1, std::memory_order_relaxed); }
  std::uint64_t frames_sent() const noexcept { return frames_sent_.load(std::memory_order_relaxed); }
  std::uint64_t conflated() const noexcept { return conflated_.load(std::memory_order_relaxed); }
  std::uint64_t bytes_sent() const noexcept { return bytes_sent_.load(std::memory_order_relaxed); }

  std::size_t session_count() const noexcept { return session_count_.load(std::memory_order_relaxed); }
  // (session, symbol or user route) subscriptions held; read from any thread.
  std::size_t subscription_total() const noexcept { return subscriptions_.load(std::memory_order_relaxed); }

  // Delivery latency (ingest receive -> written to the client's socket), in seconds, and events
  // per batch frame: observed on this worker's thread, read by scrapes.
  void observe_latency(double seconds, std::int64_t now_s) noexcept { latency_.observe(seconds, now_s); }
  void observe_batch(std::size_t events) noexcept { batch_sizes_.observe(static_cast<double>(events)); }
  const worker_histogram& latency() const noexcept { return latency_; }
  const worker_histogram& batch_sizes() const noexcept { return batch_sizes_; }
  // The drain started: each session gets a reconnect hint and closes at a random moment within
  // window (on this worker's thread).
  void post_drain(std::chrono::milliseconds window);

 private:
  // Per symbol on this worker: whether Redis has confirmed it, and who waits for that.
  struct symbol_state {
    std::uint64_t generation = 0;
    bool active = false;
    struct waiter {
      frame_sink* sink = nullptr;
      std::function<void()> on_active;
      std::function<void()> on_refused;  // empty: on_active hears the refusal too
    };
    std::vector<waiter> waiters;
    std::string source;  // of the latest tick delivered
  };
  struct source_health {
    std::chrono::steady_clock::time_point last_good;
    std::int64_t last_good_us = 0;
    bool stale = false;
  };

  void release(const std::string& symbol);
  void schedule_tick();
  // Ticks the next sessions of the current sweep, a batch per turn of the event loop.
  void sweep_step(std::chrono::steady_clock::time_point now);
  void check_sources(std::chrono::steady_clock::time_point now);
  // The turn's deliveries are queued: the sessions that asked write them.
  void write_queued();
  // Runs fn, a round of deliveries, then delivered(): its end.
  template <class Fn>
  void in_round(Fn&& fn);
  void notify_sources(const std::string& source, bool stale, std::int64_t since_us);

  const std::size_t id_;
  route_registry& routes_;
  subscription_index<frame_sink*> index_;
  std::unordered_map<std::string, symbol_state, string_hash, std::equal_to<>> symbols_;
  session_roster<frame_sink> sessions_;  // also the heartbeat sweep's order and progress
  bool stopping_ = false;
  std::uint64_t next_generation_ = 1;
  std::atomic<std::size_t> session_count_{0};
  std::atomic<std::size_t> subscriptions_{0};
  worker_histogram latency_;
  worker_histogram batch_sizes_;
  std::atomic<std::uint64_t> frames_sent_{0};
  std::atomic<std::uint64_t> bytes_sent_{0};
  std::atomic<std::uint64_t> conflated_{0};
  const std::chrono::milliseconds tick_;
  const std::chrono::milliseconds stale_after_;
  std::unordered_map<std::string, source_health, string_hash, std::equal_to<>> sources_;
  std::thread thread_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  std::optional<boost::asio::steady_timer> stop_timer_;
  std::optional<boost::asio::steady_timer> tick_timer_;
  // Sessions to write once the current turn's deliveries are queued (write_soon), and those
  // writing now (a write may queue the next turn's list).
  std::vector<std::shared_ptr<frame_sink>> to_write_;
  std::vector<std::shared_ptr<frame_sink>> writing_;
  bool write_due_ = false;  // write_queued() will run: the round's end (delivered()) or a post
  // At most 4,096 blocks kept free (1.25 MiB), and no more than the most writes in flight at
  // once since the last heartbeat sweep. Declared before ioc_ so that it outlives the
  // operations ioc_ still holds when it is destroyed.
  common::block_pool write_memory_{write_block_size, 4096};
  // Declared last so it is destroyed first: handlers it still holds may own sessions, whose
  // destructors use the index above.
  boost::asio::io_context ioc_{1};
};

}  // namespace tickstream::edge
