// The publish queue's policies, driven with made-up times: ticks conflated per symbol and dropped
// when too old, private events kept in order up to their bound then refused, nothing sent while
// Redis is down or a reply is overdue, and sending again once the replies come back.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "ingest/publish/publish_queue.hpp"

using namespace tickstream::ingest;

namespace {

using queue = publish_queue<std::string>;

publish_queue_limits small() {
  publish_queue_limits l;
  l.max_in_flight = 3;
  l.max_waiting_ticks = 2;
  l.max_waiting_private = 3;
  l.max_waiting_dead_letters = 1;
  l.max_tick_age_us = 2'000'000;
  l.stall_after_us = 1'000'000;
  return l;
}

// Takes everything next() gives at now (connected) and answers it at once.
std::vector<std::string> send_all(queue& q, std::int64_t now, std::vector<std::string>* expired = nullptr) {
  std::vector<std::string> out;
  while (auto r = q.next(now, true, expired)) {
    out.push_back(r->item);
    q.on_reply(r->id);
  }
  return out;
}

}  // namespace

TEST_CASE("publish queue: a symbol's waiting tick is replaced by a newer one and keeps its place", "[publish_queue]") {
  queue q(small());
  CHECK(q.push_tick("AAPL", 100, "aapl-1") == admission::queued);
  CHECK(q.push_tick("MSFT", 110, "msft-1") == admission::queued);
  std::string replaced;
  CHECK(q.push_tick("AAPL", 120, "aapl-2", &replaced) == admission::conflated);
  CHECK(replaced == "aapl-1");
  CHECK(q.waiting_ticks() == 2);
  // A third symbol is over the bound of two waiting symbols.
  CHECK(q.push_tick("TSLA", 130, "tsla-1") == admission::refused);
  CHECK(q.stats().conflated == 1);
  CHECK(q.stats().refused_ticks == 1);

  CHECK(send_all(q, 200) == std::vector<std::string>{"aapl-2", "msft-1"});  // AAPL arrived first
  // Once sent, a symbol's next tick waits again, and the freed place takes a new symbol.
  CHECK(q.push_tick("AAPL", 300, "aapl-3") == admission::queued);
  CHECK(q.push_tick("TSLA", 310, "tsla-2") == admission::queued);
  CHECK(send_all(q, 400) == std::vector<std::string>{"aapl-3", "tsla-2"});
  CHECK(q.idle());
}

TEST_CASE("publish queue: a tick older than the bound when it could be sent is dropped and counted",
          "[publish_queue]") {
  queue q(small());
  q.push_tick("AAPL", 1'000'000, "aapl");
  q.push_tick("MSFT", 2'500'000, "msft");
  std::vector<std::string> expired;
  // At 3.0 s AAPL's tick is exactly 2.0 s old: still sent.
  CHECK(send_all(q, 3'000'000, &expired) == std::vector<std::string>{"aapl", "msft"});
  CHECK(expired.empty());

  q.push_tick("AAPL", 1'000'000, "stale");
  q.push_tick("MSFT", 2'500'000, "fresh");
  // 1 µs later AAPL's is past the bound: handed back as expired, never sent.
  CHECK(send_all(q, 3'000'001, &expired) == std::vector<std::string>{"fresh"});
  CHECK(expired == std::vector<std::string>{"stale"});
  CHECK(q.stats().expired == 1);
  CHECK(q.idle());
}

TEST_CASE("publish queue: private events keep their order and are refused past their bound", "[publish_queue]") {
  queue q(small());
  CHECK(q.has_room_for_private(3));
  CHECK_FALSE(q.has_room_for_private(4));
  for (const char* e : {"p1", "p2", "p3"}) CHECK(q.push(publish_kind::private_event, e) == admission::queued);
  CHECK_FALSE(q.has_room_for_private(1));
  CHECK(q.push(publish_kind::private_event, "p4") == admission::refused);
  CHECK(q.stats().refused_private == 1);
  // Dead letters have a bound of their own.
  CHECK(q.push(publish_kind::dead_letter, "d1") == admission::queued);
  CHECK(q.push(publish_kind::dead_letter, "d2") == admission::refused);
  CHECK(q.stats().refused_dead_letters == 1);
  q.push_tick("AAPL", 0, "t1");
  // Private events first, then ticks, then dead letters; nothing is ever dropped but ticks.
  CHECK(send_all(q, 10) == std::vector<std::string>{"p1", "p2", "p3", "t1", "d1"});
}

TEST_CASE("publish queue: at most max_in_flight unanswered, and nothing while Redis is down", "[publish_queue]") {
  queue q(small());
  for (const char* e : {"p1", "p2", "p3"}) q.push(publish_kind::private_event, e);
  q.push_tick("AAPL", 0, "t1");
  CHECK_FALSE(q.next(0, false));  // disconnected: it all waits here
  CHECK_FALSE(q.usable(0, false));
  std::vector<std::uint64_t> ids;
  while (auto r = q.next(0, true)) ids.push_back(r->id);
  CHECK(ids.size() == 3);  // the window
  CHECK(q.in_flight() == 3);
  CHECK(q.waiting() == 1);
  q.on_reply(ids[1]);  // an answer out of order (an error reply, say) frees a place too
  auto r = q.next(10, true);
  REQUIRE(r);
  CHECK(r->item == "t1");
}

TEST_CASE("publish queue: a reply overdue past the stall bound stops sending until it comes back", "[publish_queue]") {
  queue q(small());
  q.push(publish_kind::private_event, "p1");
  auto first = q.next(0, true);
  REQUIRE(first);
  q.push(publish_kind::private_event, "p2");
  q.push_tick("AAPL", 1'500'000, "t1");
  // Within the stall bound Redis is usable: p2 goes.
  CHECK(q.usable(1'000'000, true));
  auto second = q.next(1'000'000, true);
  REQUIRE(second);
  CHECK(second->item == "p2");
  // Past it (the oldest, p1, unanswered for 1.000001 s): unusable, nothing more is sent.
  CHECK_FALSE(q.usable(1'000'001, true));
  CHECK_FALSE(q.next(1'000'001, true));
  // Redis answers again: p1 back at 1.2 s makes p2 (sent at 1.0 s) the oldest; t1 goes.
  q.on_reply(first->id);
  CHECK(q.usable(1'200'000, true));
  auto third = q.next(1'200'000, true);
  REQUIRE(third);
  CHECK(third->item == "t1");
}

TEST_CASE("publish queue: a stall long enough expires the waiting ticks but keeps every private event",
          "[publish_queue]") {
  queue q(small());
  q.push(publish_kind::private_event, "p0");
  auto stuck = q.next(0, true);  // Redis stops answering after this
  REQUIRE(stuck);
  for (int i = 1; i <= 100; ++i) q.push_tick("AAPL", i * 100'000, "aapl-" + std::to_string(i));  // 10 s of ticks
  q.push(publish_kind::private_event, "p1");
  CHECK(q.stats().conflated == 99);
  CHECK(q.waiting() == 2);
  // The stall ends at 45 s: the waiting AAPL tick (received at 10 s) is 35 s old.
  q.on_reply(stuck->id);
  std::vector<std::string> expired;
  CHECK(send_all(q, 45'000'000, &expired) == std::vector<std::string>{"p1"});
  CHECK(expired == std::vector<std::string>{"aapl-100"});
}

TEST_CASE("publish queue: what is left at shutdown is handed back", "[publish_queue]") {
  queue q(small());
  q.push(publish_kind::private_event, "p1");
  q.push_tick("AAPL", 0, "t1");
  q.push(publish_kind::dead_letter, "d1");
  CHECK(q.take_waiting() == std::vector<std::string>{"p1", "t1", "d1"});
  CHECK(q.idle());
  // The symbol's place is free again.
  CHECK(q.push_tick("AAPL", 1, "t2") == admission::queued);
  CHECK(send_all(q, 2) == std::vector<std::string>{"t2"});
}
