#pragma once
// A Redis call on a request path, with a deadline: the request is answered within the deadline
// whether or not Redis is (a stalled Redis must not freeze every upgrade and REST call).
//
// Threading: then() or on_timeout() runs exactly once, on ex (the request's own thread); the
// answer may arrive on any thread (the Redis thread) and is dropped when it comes too late.

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace tickstream::edge {

template <class Answer, class Executor>
void call_with_deadline(const Executor& ex, std::chrono::milliseconds timeout,
                        const std::function<void(std::function<void(Answer)>)>& start, std::function<void(Answer)> then,
                        const std::function<void()>& on_timeout, std::function<void(Answer)> on_late = {}) {
  struct state {
    explicit state(const Executor& e) : timer(e) {}
    boost::asio::steady_timer timer;
    bool done = false;  // touched on ex only
    std::function<void(Answer)> then;
    std::function<void()> on_timeout;
    std::function<void(Answer)> on_late;  // undoes an answer that came too late (a lease taken)
  };
  auto st = std::make_shared<state>(ex);
  st->then = std::move(then);
  st->on_timeout = on_timeout;
  st->on_late = std::move(on_late);
  st->timer.expires_after(timeout);
  st->timer.async_wait([st](const boost::system::error_code& ec) {
    if (ec || st->done) return;
    st->done = true;
    st->on_timeout();
  });
  start([st, ex](Answer a) {
    boost::asio::post(ex, [st, a = std::move(a)]() mutable {
      if (st->done) {  // too late: the request was answered without it
        if (st->on_late) st->on_late(std::move(a));
        return;
      }
      st->done = true;
      st->timer.cancel();
      st->then(std::move(a));
    });
  });
}

}  // namespace tickstream::edge
