// The frames of one gathered write: what is left to write after the kernel took part of it.

#include <catch2/catch.hpp>

#include <string>

#include "edge/net/write_batch.hpp"

using namespace tickstream::edge;

namespace {

// The bytes the buffers still hold, joined.
std::string joined(std::span<const boost::asio::const_buffer> buffers) {
  std::string out;
  for (const auto& b : buffers) out.append(static_cast<const char*>(b.data()), b.size());
  return out;
}

}  // namespace

TEST_CASE("write batch: after a partial write, the rest starts where the kernel stopped", "[write]") {
  outbound_queue q({}, std::chrono::milliseconds(0));
  for (const char* text : {"first", "second", "third"}) q.push_reply(make_text_frame(frame_kind::control, {}, text));
  write_batch batch;
  deflate_cursor cursor;
  const auto all = batch.take(q, deflate_mode::off, 0, cursor);
  REQUIRE(all.size() == 3);
  const std::string wire = joined(all);  // three text frames of 2-byte headers: 7 + 8 + 7 bytes
  REQUIRE(wire.size() == 22);
  CHECK(batch.bytes() == 22);

  SECTION("nothing taken: everything is left") { CHECK(joined(batch.consume(0)) == wire); }
  SECTION("part of the first frame") {
    const auto rest = batch.consume(3);
    CHECK(rest.size() == 3);
    CHECK(joined(rest) == wire.substr(3));
  }
  SECTION("exactly the first frame") {
    const auto rest = batch.consume(7);
    CHECK(rest.size() == 2);
    CHECK(joined(rest) == wire.substr(7));
  }
  SECTION("into the last frame, in two partial writes") {
    CHECK(joined(batch.consume(10)) == wire.substr(10));
    const auto rest = batch.consume(6);  // 16 of 22 written
    CHECK(rest.size() == 1);
    CHECK(joined(rest) == wire.substr(16));
  }
  SECTION("all of it: nothing is left") { CHECK(batch.consume(22).empty()); }
  SECTION("the next batch starts whole") {
    batch.consume(10);
    q.push_reply(make_text_frame(frame_kind::control, {}, "fourth"));
    const auto next = batch.take(q, deflate_mode::off, 0, cursor);
    CHECK(next.size() == 1);
    CHECK(joined(next).substr(2) == "fourth");
  }
}
