#pragma once
// Internal to the Redis I/O shells (redis_client.cpp, redis_cluster_client.cpp): the event loop a
// client's Redis I/O runs on, and the hand-off of work to it from other threads. The loop is an
// io_context on a thread of its own, or the caller's io_context (use_loop()), run by the caller's
// thread: then nothing crosses threads on the way from a Redis socket to its message handler.
//
// Work from any thread goes into one mutex-guarded vector; the first item since the last drain
// posts one drain to the loop, so everything queued between two drains is handled in one go (and
// written as one pipeline).

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <cassert>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/log.hpp"

namespace tickstream::common::detail {

template <class Op>
class redis_loop {
 public:
  // Before start(): the client runs on loop, whose thread runs it, instead of a thread of its own.
  void use_loop(boost::asio::io_context& loop) {
    assert(!started_.load() && "use_loop() before start()");
    external_ = &loop;
  }
  bool external() const noexcept { return external_ != nullptr; }
  // The loop's io_context (its own is made on first use).
  boost::asio::io_context& context() {
    if (external_ != nullptr) return *external_;
    if (!own_) own_.emplace(1);
    return *own_;
  }
  bool started() const noexcept { return started_.load(); }
  bool stopping() const noexcept { return stopping_.load(); }
  // Whether the caller is on the loop's thread (once the loop has begun).
  bool on_loop() const noexcept { return std::this_thread::get_id() == loop_thread_; }

  // Starts the loop: first runs on it, then drain for what was queued before. drain runs again
  // after each wake-up; it calls take() until it returns nothing. Once only (false otherwise).
  bool start(std::function<void()> first, std::function<void()> drain) {
    if (started_.load() || stopping_.load()) return false;
    drain_ = std::move(drain);
    auto& ioc = context();
    auto body = [this, first = std::move(first)] {
      loop_thread_ = std::this_thread::get_id();
      first();
      run_drain();
    };
    {
      std::lock_guard lock(mu_);
      started_.store(true);  // from now on, work queued posts a drain (body drains what came before)
    }
    if (external_ != nullptr) {
      boost::asio::post(ioc, std::move(body));
    } else {
      work_.emplace(ioc.get_executor());
      thread_ = std::thread([&ioc, body = std::move(body)] {
        body();
        ioc.run();
      });
    }
    return true;
  }

  // Queues o for the loop; the first since the last drain posts a drain.
  void enqueue(Op o) {
    bool post = false;
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(o));
      post = !drain_posted_ && started_.load();
      drain_posted_ = drain_posted_ || post;
    }
    if (post) boost::asio::post(context(), [this] { run_drain(); });
  }

  // On the loop, from drain: what was queued since the last call (empty: nothing more, and the
  // next enqueue posts a drain again). batch is cleared first.
  void take(std::vector<Op>& batch) {
    batch.clear();
    std::lock_guard lock(mu_);
    batch.swap(queue_);
    if (batch.empty()) drain_posted_ = false;
  }

  // The loop may finish once what is in flight has completed (its own thread returns).
  void release() { work_.reset(); }

  // Stops: shutdown runs on the loop (its own thread, which is then joined), or here (with use_loop:
  // on the loop's thread, or once it no longer runs). Returns what was queued too late for the
  // loop to see. Idempotent; an empty vector if never started.
  std::vector<Op> stop(const std::function<void()>& shutdown) {
    if (!started_.load() || stopping_.exchange(true)) return {};
    if (external_ != nullptr) {
      assert((on_loop() || external_->stopped()) && "stop() while the loop runs on another thread");
      shutdown();
    } else {
      assert(!on_loop() && "stop() from the Redis thread");
      boost::asio::post(*own_, shutdown);
      thread_.join();
    }
    std::vector<Op> rest;
    std::lock_guard lock(mu_);
    rest.swap(queue_);
    return rest;
  }

  // Why the last connection attempt or connection failed (any thread).
  void set_error(std::string why) {
    std::lock_guard lock(mu_);
    last_error_ = std::move(why);
  }
  std::string last_error() const {
    std::lock_guard lock(mu_);
    return last_error_;
  }

 private:
  // A drain that throws has dropped the rest of its batch (their replies never come) and left the
  // hand-off queue unposted: the client cannot go on. On its own thread that ended the process; on
  // a caller's loop (which would catch it and carry on) it ends the process the same way, saying why.
  void run_drain() noexcept {
    try {
      drain_();
    } catch (const std::exception& e) {
      log_error("the Redis client's hand-off threw; stopping", {{"what", e.what()}});
      std::terminate();
    }
  }

  boost::asio::io_context* external_ = nullptr;
  std::optional<boost::asio::io_context> own_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::thread::id loop_thread_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};
  std::function<void()> drain_;

  mutable std::mutex mu_;
  std::vector<Op> queue_;      // guarded by mu_
  bool drain_posted_ = false;  // guarded by mu_
  std::string last_error_;     // guarded by mu_
};

}  // namespace tickstream::common::detail
