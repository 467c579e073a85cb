#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "edge/fanout/outbound_queue.hpp"

using namespace tickstream::edge;
using namespace std::chrono_literals;

namespace {

using clock_t_ = outbound_queue::clock;
const clock_t_::time_point t0 = clock_t_::time_point(100s);

frame_ptr tick(const std::string& symbol, int n) {
  std::string text = R"({"type":"price_update","symbol":")";
  text.append(symbol).append(R"(","n":)").append(std::to_string(n)).append("}");
  return make_text_frame(frame_kind::tick, symbol, text);
}

frame_ptr order(int n) {
  std::string text = R"({"type":"order_update","n":)";
  text.append(std::to_string(n)).append("}");
  return make_text_frame(frame_kind::order, "o-1", text);
}

frame_ptr reply(const std::string& text) { return make_text_frame(frame_kind::control, {}, text); }

// The payloads of everything queued, in write order (emptying the queue).
std::vector<std::string> written(outbound_queue& q) {
  std::vector<std::string> out;
  std::vector<frame_ptr> batch;
  while (q.has_queued()) {
    q.take(batch, 64, 512 * 1024);
    for (const auto& f : batch) out.emplace_back(f->payload());
  }
  return out;
}

queue_bounds bounds(std::size_t soft_frames, std::size_t max_frames) {
  queue_bounds b;
  b.soft_frames = soft_frames;
  b.max_frames = max_frames;
  return b;
}

}  // namespace

TEST_CASE("outbound queue: without a window every event is queued at once", "[outbound]") {
  outbound_queue q({}, 0ms);
  CHECK(q.push(tick("AAPL", 1), t0) == push_status::queued);
  CHECK(q.push(tick("AAPL", 2), t0) == push_status::queued);
  CHECK_FALSE(q.flush_at());
  CHECK(written(q) == std::vector<std::string>{R"({"type":"price_update","symbol":"AAPL","n":1})",
                                               R"({"type":"price_update","symbol":"AAPL","n":2})"});
}

TEST_CASE("outbound queue: the first event of a window goes at once, later ones wait for the window's end",
          "[outbound][batching]") {
  outbound_queue q({}, 200ms);
  CHECK(q.push(tick("AAPL", 1), t0) == push_status::queued);  // idle connection: no added delay
  CHECK(q.push(tick("MSFT", 1), t0 + 10ms) == push_status::held);
  CHECK(q.push(tick("AAPL", 2), t0 + 20ms) == push_status::held);
  CHECK(q.push(tick("AAPL", 3), t0 + 30ms) == push_status::conflated);  // replaces AAPL 2
  CHECK(q.push(tick("NVDA", 1), t0 + 40ms) == push_status::held);
  // Nothing waits longer than one window: due exactly when the window that the send opened ends.
  REQUIRE(q.flush_at());
  CHECK(*q.flush_at() == t0 + 200ms);
  CHECK(q.flush(t0 + 199ms).events == 0);  // not yet
  const auto f = q.flush(t0 + 200ms);
  CHECK(f.events == 3);
  CHECK(f.status == push_status::queued);
  CHECK_FALSE(q.flush_at());
  const auto out = written(q);
  REQUIRE(out.size() == 2);  // the lone first event, then one batch for the window
  CHECK(out[0] == R"({"type":"price_update","symbol":"AAPL","n":1})");
  CHECK(out[1] == R"({"type":"batch","events":[{"type":"price_update","symbol":"MSFT","n":1},)"
                  R"({"type":"price_update","symbol":"AAPL","n":3},{"type":"price_update","symbol":"NVDA","n":1}]})");
  // The batch opened a new window: an event within it waits for its end too.
  CHECK(q.push(tick("AAPL", 4), t0 + 250ms) == push_status::held);
  CHECK(*q.flush_at() == t0 + 400ms);
  // A connection idle for a whole window sends at once again.
  outbound_queue idle({}, 200ms);
  CHECK(idle.push(tick("AAPL", 1), t0) == push_status::queued);
  CHECK(idle.push(tick("AAPL", 2), t0 + 200ms) == push_status::queued);
}

TEST_CASE("outbound queue: a broker event ends the window, leaving at once after what is held",
          "[outbound][batching]") {
  outbound_queue q({}, 250ms);
  CHECK(q.push(tick("AAPL", 1), t0) == push_status::queued);
  CHECK(q.push(tick("AAPL", 2), t0 + 10ms) == push_status::held);
  CHECK(q.push(tick("MSFT", 1), t0 + 20ms) == push_status::held);
  CHECK(q.push(order(1), t0 + 30ms) == push_status::queued);  // a fill's order update does not wait
  CHECK_FALSE(q.flush_at());                                  // nothing is left held
  CHECK(q.take_ended_window_events() == 3);                   // one batch of three, for the metrics
  CHECK(q.take_ended_window_events() == 0);
  CHECK(written(q) ==
        std::vector<std::string>{R"({"type":"price_update","symbol":"AAPL","n":1})",
                                 R"({"type":"batch","events":[{"type":"price_update","symbol":"AAPL","n":2},)"
                                 R"({"type":"price_update","symbol":"MSFT","n":1},)"
                                 R"({"type":"order_update","n":1}]})"});
  // It opened a new window: a tick just after waits for that window's end.
  CHECK(q.push(tick("AAPL", 3), t0 + 40ms) == push_status::held);
  REQUIRE(q.flush_at());
  CHECK(*q.flush_at() == t0 + 280ms);
  // Alone within a window, it leaves as itself, not as a batch of one.
  outbound_queue alone({}, 250ms);
  CHECK(alone.push(tick("AAPL", 1), t0) == push_status::queued);
  CHECK(alone.push(order(2), t0 + 5ms) == push_status::queued);
  CHECK(written(alone) == std::vector<std::string>{R"({"type":"price_update","symbol":"AAPL","n":1})",
                                                   R"({"type":"order_update","n":2})"});
  // Behind (past the soft bound) it is held like the rest, and leaves when the queue drains.
  outbound_queue behind(bounds(1, 100), 250ms);
  CHECK(behind.push(tick("AAPL", 1), t0) == push_status::queued);
  CHECK(behind.push(order(3), t0 + 5ms) == push_status::held);
}

TEST_CASE("outbound queue: past the soft bound ticks are conflated until the queue drains", "[outbound][slow]") {
  outbound_queue q(bounds(2, 100), 0ms);
  CHECK(q.push(tick("AAPL", 1), t0) == push_status::queued);
  CHECK(q.push(tick("AAPL", 2), t0) == push_status::queued);
  // Two frames waiting: the soft bound. Ticks are held (latest per symbol), orders all kept.
  CHECK(q.push(tick("AAPL", 3), t0) == push_status::held);
  CHECK(q.push(order(1), t0) == push_status::held);
  CHECK(q.push(tick("AAPL", 4), t0) == push_status::conflated);
  CHECK(q.push(order(2), t0) == push_status::held);
  CHECK(q.held_events() == 3);
  CHECK(q.flush(t0).events == 0);  // still behind: nothing moves
  std::vector<frame_ptr> batch;
  q.take(batch, 64, 512 * 1024);  // the socket took what was queued
  const auto f = q.flush(t0);
  CHECK(f.events == 3);
  CHECK(written(q) == std::vector<std::string>{R"({"type":"batch","events":[{"type":"order_update","n":1},)"
                                               R"({"type":"price_update","symbol":"AAPL","n":4},)"
                                               R"({"type":"order_update","n":2}]})"});
}

TEST_CASE("outbound queue: past the hard bound (queued plus held) the connection must close", "[outbound][slow]") {
  outbound_queue q(bounds(1, 4), 0ms);
  CHECK(q.push(tick("AAPL", 1), t0) == push_status::queued);
  for (int i = 1; i <= 3; ++i) CHECK(q.push(order(i), t0) == push_status::held);  // 1 queued + 3 held = 4
  CHECK(q.push(order(4), t0) == push_status::over_bound);                         // 5 > 4: orders never drop
  // Replies count too: a client that sends but never reads must not grow our memory.
  outbound_queue replies(bounds(1000, 3), 0ms);
  for (int i = 0; i < 3; ++i) CHECK(replies.push_reply(reply("{}")) == push_status::queued);
  CHECK(replies.push_reply(reply("{}")) == push_status::over_bound);
  // Bytes bound the same way.
  queue_bounds by_bytes;
  by_bytes.max_bytes = 100;
  outbound_queue big(by_bytes, 0ms);
  CHECK(big.push_reply(reply(std::string(60, 'x'))) == push_status::queued);
  CHECK(big.push_reply(reply(std::string(60, 'x'))) == push_status::over_bound);
}

TEST_CASE("outbound queue: control frames jump the queue, replies follow what is held when asked", "[outbound]") {
  outbound_queue q({}, 200ms);
  q.push(tick("AAPL", 1), t0);
  q.push(tick("AAPL", 2), t0 + 1ms);  // held
  CHECK(q.push_urgent(reply("pong")) == push_status::queued);
  // A snapshot follows the events delivered before it: what is held goes first.
  CHECK(q.push_reply(reply("snapshot"), true) == push_status::queued);
  CHECK(q.held_events() == 0);
  CHECK(q.push_reply(reply("subscribed")) == push_status::queued);
  CHECK(written(q) == std::vector<std::string>{"pong", R"({"type":"price_update","symbol":"AAPL","n":1})",
                                               R"({"type":"price_update","symbol":"AAPL","n":2})", "snapshot",
                                               "subscribed"});
}

TEST_CASE("outbound queue: a gathered write takes at most its frame and byte budget", "[outbound]") {
  outbound_queue q({}, 0ms);
  for (int i = 0; i < 100; ++i) q.push(tick("S" + std::to_string(i), i), t0);
  std::vector<frame_ptr> batch;
  const auto bytes = q.take(batch, 64, 512 * 1024);
  CHECK(batch.size() == 64);
  std::size_t sum = 0;
  for (const auto& f : batch) sum += f->wire.size();
  CHECK(bytes == sum);
  CHECK(q.queued_frames() == 36);
  q.take(batch, 64, 1);  // at least one frame, however small the byte budget
  CHECK(batch.size() == 1);
  q.drop(false);
  CHECK_FALSE(q.has_queued());
  CHECK(q.queued_bytes() == 0);
}

TEST_CASE("outbound queue: a client behind gets the latest app event per key, the others' seqs in a marker",
          "[outbound][conflation]") {
  // No window: only the soft bound holds events back (a client that does not read).
  outbound_queue q(bounds(2, 100), 0ms);
  const auto app = [](std::int64_t seq, const char* type, bool conflatable) {
    std::string text = R"({"type":")";
    text.append(type).append(R"(","seq":)").append(std::to_string(seq)).append("}");
    auto f = make_text_frame_mutable(conflatable ? frame_kind::app_latest : frame_kind::app_event,
                                     conflatable ? std::string(type).append(":p1") : std::string(type), text);
    f->seq = seq;
    return frame_ptr(std::move(f));
  };
  CHECK(q.push(app(1, "portfolio_update", true), t0) == push_status::queued);
  CHECK(q.push(app(2, "portfolio_update", true), t0) == push_status::queued);
  // Over the soft bound from here on: held, and conflated per key.
  CHECK(q.push(app(3, "portfolio_update", true), t0) == push_status::held);
  CHECK(q.push(app(4, "decision_made", false), t0) == push_status::held);
  CHECK(q.push(app(5, "portfolio_update", true), t0) == push_status::conflated);
  CHECK(q.push(app(6, "portfolio_update", true), t0) == push_status::conflated);
  CHECK(q.held_events() == 4);     // marker 3, decision 4, marker 5, portfolio 6
  CHECK(q.flush(t0).events == 0);  // still behind
  CHECK(written(q) ==
        std::vector<std::string>{R"({"type":"portfolio_update","seq":1})", R"({"type":"portfolio_update","seq":2})"});
  CHECK(q.flush(t0).events == 4);
  CHECK(written(q) ==
        std::vector<std::string>{R"({"type":"batch","events":[{"type":"conflated","fromSeq":3,"toSeq":3},)"
                                 R"({"type":"decision_made","seq":4},{"type":"conflated","fromSeq":5,"toSeq":5},)"
                                 R"({"type":"portfolio_update","seq":6}]})"});
}
