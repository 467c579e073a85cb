// The Server-Sent Events decoder and the resume cursor: pure, driven directly.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "ingest/sources/event_cursor.hpp"
#include "ingest/sources/sse_parser.hpp"

using namespace tickstream::ingest;
using namespace std::string_view_literals;

namespace {

// A stream mixing every line ending, comments, ids, multi-line data, a retry and a BOM.
const std::string stream =
    "\xEF\xBB\xBF"
    ":heartbeat\r\n"
    "id: 01A\n"
    "data: {\"event\":\"new\"}\n"
    "\n"
    "data:first\r\n"
    "data: second\r"
    "data\n"  // a field name alone: an empty data line
    "event: fill\n"
    "id:01B\r\n"
    "\r\n"
    ": you are reading too slowly, dropped 10 messages\n"
    "retry: 2500\n"
    "unknown: ignored\n"
    "data: {\"event\":\"fill\"}\n"
    "\r";

void check_stream(const sse_output& out) {
  REQUIRE(out.events.size() == 3);
  CHECK(out.events[0].id == "01A");
  CHECK(out.events[0].type == "message");
  CHECK(out.events[0].data == R"({"event":"new"})");
  CHECK(out.events[1].id == "01B");
  CHECK(out.events[1].type == "fill");
  CHECK(out.events[1].data == "first\nsecond\n");
  CHECK(out.events[2].id == "01B");  // the last event id is kept across events
  CHECK(out.events[2].data == R"({"event":"fill"})");
  REQUIRE(out.comments.size() == 2);
  CHECK(out.comments[0] == "heartbeat");
  CHECK(out.comments[1] == "you are reading too slowly, dropped 10 messages");
  CHECK(out.retry_ms == 2500);
  CHECK(out.problems.empty());
}

}  // namespace

TEST_CASE("SSE - a stream decodes to its events, comments and retry", "[sse]") {
  sse_parser p;
  sse_output out;
  p.feed(stream, out);
  check_stream(out);
  CHECK(p.last_event_id() == "01B");
}

TEST_CASE("SSE - the same events whatever the split, at every byte boundary", "[sse]") {
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    for (std::size_t cut2 = cut; cut2 <= stream.size(); cut2 += 7) {
      sse_parser p;
      sse_output out;
      p.feed(std::string_view(stream).substr(0, cut), out);
      p.feed(std::string_view(stream).substr(cut, cut2 - cut), out);
      p.feed(std::string_view(stream).substr(cut2), out);
      INFO("cut at " << cut << " and " << cut2);
      check_stream(out);
    }
  }
  sse_parser p;
  sse_output out;
  for (char c : stream) p.feed(std::string_view(&c, 1), out);  // one byte at a time
  check_stream(out);
}

TEST_CASE("SSE - an event cut off by the end of the stream is not dispatched", "[sse]") {
  sse_parser p;
  sse_output out;
  p.feed("data: a\n\ndata: b\n", out);
  CHECK(out.events.size() == 1);
  p.reset();  // reconnect: the half event is gone, the id kept
  p.feed("data: c\n\n", out);
  REQUIRE(out.events.size() == 2);
  CHECK(out.events[1].data == "c");
}

TEST_CASE("SSE - bad input is reported and skipped, the good events after it delivered", "[sse]") {
  sse_parser p(64);
  sse_output out;
  const std::string big(100, 'x');
  p.feed("data: " + big + "\ndata: more of the same event\n\n", out);  // a line past the bound
  p.feed("data: ok-1\n\n", out);
  p.feed("data: " + std::string(40, 'y') + "\ndata: " + std::string(40, 'z') + "\n\n", out);  // an event past it
  p.feed("retry: soon\nid: a\0b\ndata: ok-2\n\n"sv, out);
  REQUIRE(out.events.size() == 2);
  CHECK(out.events[0].data == "ok-1");
  CHECK(out.events[1].data == "ok-2");
  CHECK(out.events[1].id.empty());  // the bad id was not taken
  REQUIRE(out.problems.size() == 4);
  CHECK(out.problems[0].code == "sse_too_large");
  CHECK(out.problems[1].code == "sse_too_large");
  CHECK(out.problems[2].code == "sse_bad_retry");
  CHECK(out.problems[3].code == "sse_bad_id");
  CHECK_FALSE(out.retry_ms);
}

TEST_CASE("SSE - a line past the bound split across chunks drops only its own event", "[sse]") {
  sse_parser p(16);
  sse_output out;
  p.feed("data: " + std::string(30, 'x'), out);
  p.feed("\ndata: still the dropped event\n", out);
  p.feed("\ndata: next\n\n", out);
  REQUIRE(out.events.size() == 1);
  CHECK(out.events[0].data == "next");
  CHECK(out.problems.size() == 1);
}

TEST_CASE("resume cursor - moves only over a run of stored events", "[sse]") {
  event_cursor c("00");
  const auto a = c.begin("01", 3);
  const auto b = c.begin("02", 1);
  const auto skipped = c.begin("03", 0);
  (void)skipped;
  CHECK_FALSE(c.complete(b, true));  // b is stored, a is not yet: still 00
  CHECK(c.committed() == "00");
  CHECK_FALSE(c.complete(a, true));
  CHECK_FALSE(c.complete(a, true));
  CHECK(c.complete(a, true) == "03");  // a's last part: a, b and the skipped one are done
  CHECK(c.in_flight() == 0);
  c.begin("04", 0);
  CHECK(c.settle() == "04");
}

TEST_CASE("resume cursor - a failed part holds it until the stream is read again", "[sse]") {
  event_cursor c("10");
  const auto a = c.begin("11", 1);
  const auto b = c.begin("12", 1);
  CHECK_FALSE(c.complete(a, false));
  CHECK(c.failed());
  CHECK_FALSE(c.complete(b, true));
  CHECK(c.committed() == "10");
  c.restart();
  CHECK_FALSE(c.complete(b, true));  // a ticket from before the restart changes nothing
  const auto again = c.begin("11", 1);
  CHECK(c.complete(again, true) == "11");
}
