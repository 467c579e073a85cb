#include <catch2/catch.hpp>

#include <string>

#include "edge/fanout/conflation_buffer.hpp"

using namespace tickstream::edge;

namespace {

frame_ptr tick(const std::string& symbol, int n) {
  // Built with append: GCC 12 at -O3 warns (-Wrestrict, a known false positive) on a chain of +.
  std::string text = R"({"s":")";
  text.append(symbol).append(R"(","n":)").append(std::to_string(n)).append("}");
  return make_text_frame(frame_kind::tick, symbol, text);
}

frame_ptr control(const std::string& text) { return make_text_frame(frame_kind::control, {}, text); }

std::string payload_of(const frame_ptr& f) { return std::string(f->payload()); }

}  // namespace

TEST_CASE("an empty buffer yields nothing, one event yields that very frame", "[conflation]") {
  conflation_buffer b;
  CHECK(b.empty());
  CHECK(b.take() == nullptr);
  const auto f = tick("AAPL", 1);
  b.add(f);
  CHECK(b.take() == f);  // shared, not copied
  CHECK(b.empty());
}

TEST_CASE("ticks keep only the latest per symbol, others are all kept, in arrival order", "[conflation]") {
  conflation_buffer b;
  b.add(tick("AAPL", 1));
  b.add(tick("MSFT", 1));
  b.add(control(R"({"c":1})"));
  b.add(tick("AAPL", 2));
  b.add(control(R"({"c":2})"));
  b.add(tick("AAPL", 3));
  CHECK(b.size() == 4);
  const auto out = b.take();
  REQUIRE(out);
  CHECK(payload_of(out) == R"({"type":"batch","events":[{"s":"MSFT","n":1},{"c":1},{"c":2},{"s":"AAPL","n":3}]})");
  // The header matches the payload length.
  CHECK(static_cast<unsigned char>(out->wire[0]) == 0x81);
  CHECK(out->wire.size() == out->header_size + out->payload().size());
  CHECK(b.empty());
  CHECK(b.bytes() == 0);
}

TEST_CASE("byte accounting follows conflation", "[conflation]") {
  conflation_buffer b;
  const auto a1 = tick("AAPL", 1);
  const auto a22 = tick("AAPL", 22);
  b.add(a1);
  CHECK(b.bytes() == a1->payload().size());
  b.add(a22);
  CHECK(b.bytes() == a22->payload().size());
  CHECK(b.size() == 1);
  b.clear();
  CHECK(b.empty());
}

TEST_CASE("many rounds of conflation stay bounded by the number of symbols", "[conflation]") {
  conflation_buffer b;
  for (int round = 0; round < 1000; ++round) {
    for (int s = 0; s < 20; ++s) b.add(tick(std::string("S").append(std::to_string(s)), round));
  }
  CHECK(b.size() == 20);
  const auto text = payload_of(b.take());
  CHECK(text.find(R"({"s":"S0","n":999})") != std::string::npos);
  CHECK(text.find(R"("n":998)") == std::string::npos);
}

TEST_CASE("private kinds follow their own rules and never replace another kind", "[conflation]") {
  const auto of = [](frame_kind k, const std::string& key, const std::string& text) {
    return make_text_frame(k, key, text);
  };
  conflation_buffer b;
  b.add(of(frame_kind::tick, "AAPL", R"({"t":1})"));
  b.add(of(frame_kind::position_mark, "AAPL", R"({"pm":1})"));  // same key, other kind: both kept
  b.add(of(frame_kind::position, "AAPL", R"({"p":1})"));        // stored events carry a seq: all kept
  b.add(of(frame_kind::order, "o-1", R"({"o":"new"})"));
  b.add(of(frame_kind::trade, "x-1", R"({"x":1})"));
  b.add(of(frame_kind::order, "o-1", R"({"o":"partially_filled"})"));  // every transition kept
  b.add(of(frame_kind::account, "", R"({"a":1})"));
  b.add(of(frame_kind::account_mark, "", R"({"am":1})"));
  b.add(of(frame_kind::trade, "x-2", R"({"x":2})"));
  b.add(of(frame_kind::order, "o-1", R"({"o":"filled"})"));
  b.add(of(frame_kind::position, "AAPL", R"({"p":2})"));
  b.add(of(frame_kind::account, "", R"({"a":2})"));
  b.add(of(frame_kind::position_mark, "AAPL", R"({"pm":2})"));  // latest mark per symbol
  b.add(of(frame_kind::account_mark, "", R"({"am":2})"));       // latest account mark
  b.add(of(frame_kind::tick, "AAPL", R"({"t":2})"));
  CHECK(payload_of(b.take()) ==
        R"({"type":"batch","events":[{"p":1},{"o":"new"},{"x":1},{"o":"partially_filled"},{"a":1},{"x":2},)"
        R"({"o":"filled"},{"p":2},{"a":2},{"pm":2},{"am":2},{"t":2}]})");
}

TEST_CASE("replaced events do not accumulate while frames are held", "[conflation]") {
  conflation_buffer b;
  for (int i = 0; i < 100'000; ++i) b.add(tick("AAPL", i));
  CHECK(b.size() == 1);
  CHECK(b.slot_count() <= 2 * b.size() + 17);
  CHECK(payload_of(b.take()) == R"({"s":"AAPL","n":99999})");
}
