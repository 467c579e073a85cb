#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

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

namespace {

// An app event as the fan-out makes it: app_latest (conflated per type and key) or app_event.
frame_ptr app(std::int64_t seq, const std::string& type, const std::string& key, bool conflatable = true) {
  std::string text = R"({"type":")";
  text.append(type).append(R"(","seq":)").append(std::to_string(seq)).append("}");
  std::string k = type;
  if (conflatable) k.append(":").append(key);
  auto f = make_text_frame_mutable(conflatable ? frame_kind::app_latest : frame_kind::app_event, k, text);
  f->seq = seq;
  return f;
}

frame_ptr decision(std::int64_t seq) { return app(seq, "decision_made", {}, false); }

// A batch's members; checks that the frame's header announces exactly its payload.
std::vector<std::string> members(const frame_ptr& f) {
  REQUIRE(f);
  CHECK(f->wire.size() == f->header_size + f->payload().size());
  rapidjson::Document d;
  d.Parse(f->payload().data(), f->payload().size());
  REQUIRE_FALSE(d.HasParseError());
  std::vector<std::string> out;
  const auto one = [&out](const rapidjson::Value& v) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
    out.emplace_back(buf.GetString(), buf.GetSize());
  };
  if (std::string_view(d["type"].GetString()) != "batch") {
    one(d);
  } else {
    for (const auto& e : d["events"].GetArray()) one(e);
  }
  return out;
}

}  // namespace

TEST_CASE("a conflated app event leaves its seq in a marker, the latest per key goes out", "[conflation]") {
  conflation_buffer b;
  CHECK_FALSE(b.add(app(1, "portfolio_update", "p1")));
  CHECK(b.add(app(2, "portfolio_update", "p1")));
  CHECK(b.add(app(3, "portfolio_update", "p1")));
  CHECK(b.size() == 2);  // one marker, one event
  CHECK(members(b.take()) == std::vector<std::string>{R"({"type":"conflated","fromSeq":1,"toSeq":2})",
                                                      R"({"type":"portfolio_update","seq":3})"});
  CHECK(b.empty());
  CHECK(b.bytes() == 0);
}

TEST_CASE("other keys and other types of app events are not replaced", "[conflation]") {
  conflation_buffer b;
  b.add(app(1, "portfolio_update", "p1"));
  CHECK_FALSE(b.add(app(2, "portfolio_update", "p2")));
  CHECK_FALSE(b.add(app(3, "risk_update", "p1")));  // same key value, another type
  CHECK_FALSE(b.add(decision(4)));
  CHECK_FALSE(b.add(decision(5)));  // never conflated
  CHECK(members(b.take()) ==
        std::vector<std::string>{R"({"type":"portfolio_update","seq":1})", R"({"type":"portfolio_update","seq":2})",
                                 R"({"type":"risk_update","seq":3})", R"({"type":"decision_made","seq":4})",
                                 R"({"type":"decision_made","seq":5})"});
}

TEST_CASE("an event between two conflated ones keeps its place before the survivor, seqs stay in order",
          "[conflation]") {
  // The rule: the survivor takes the place of the latest event; each superseded one leaves its
  // seq where it was. So decision 2 arrives after portfolio 1's marker and before portfolio 3,
  // as published, and every seq the client sees (markers included) rises.
  conflation_buffer b;
  b.add(app(1, "portfolio_update", "p1"));
  b.add(decision(2));
  CHECK(b.add(app(3, "portfolio_update", "p1")));
  CHECK(b.add(app(4, "portfolio_update", "p1")));
  CHECK(members(b.take()) == std::vector<std::string>{R"({"type":"conflated","fromSeq":1,"toSeq":1})",
                                                      R"({"type":"decision_made","seq":2})",
                                                      R"({"type":"conflated","fromSeq":3,"toSeq":3})",
                                                      R"({"type":"portfolio_update","seq":4})"});
}

TEST_CASE("markers merge across other keys and ticks, never across an event with a seq", "[conflation]") {
  conflation_buffer b;
  b.add(app(1, "portfolio_update", "a"));
  b.add(tick("AAPL", 1));
  b.add(app(2, "portfolio_update", "b"));
  b.add(app(3, "portfolio_update", "a"));
  b.add(tick("MSFT", 1));
  b.add(app(4, "portfolio_update", "b"));
  b.add(app(5, "portfolio_update", "a"));
  b.add(app(6, "portfolio_update", "b"));
  CHECK(members(b.take()) == std::vector<std::string>{R"({"type":"conflated","fromSeq":1,"toSeq":4})",
                                                      R"({"s":"AAPL","n":1})", R"({"s":"MSFT","n":1})",
                                                      R"({"type":"portfolio_update","seq":5})",
                                                      R"({"type":"portfolio_update","seq":6})"});
}

TEST_CASE("every seq is covered once and in order, by an event or a marker, whatever the mix", "[conflation]") {
  std::mt19937 rng(20261201);  // fixed: the same mix every run
  for (int round = 0; round < 200; ++round) {
    conflation_buffer b;
    const int n = 1 + static_cast<int>(rng() % 60);
    std::vector<std::int64_t> decisions;
    std::map<std::string, std::int64_t> last_of;
    for (std::int64_t seq = 1; seq <= n; ++seq) {
      if (rng() % 4 == 0) b.add(tick(std::string("S").append(std::to_string(rng() % 3)), static_cast<int>(seq)));
      if (rng() % 3 == 0) {
        b.add(decision(seq));
        decisions.push_back(seq);
      } else {
        const auto key = std::string("p").append(std::to_string(rng() % 3));
        b.add(app(seq, "portfolio_update", key));
        last_of[key] = seq;
      }
    }
    CHECK(b.slot_count() <= 2 * b.size() + 17);
    std::int64_t next = 1;  // the next seq the client is due
    std::vector<std::int64_t> seen;
    for (const auto& m : members(b.take())) {
      rapidjson::Document d;
      d.Parse(m.c_str());
      if (d.HasMember("fromSeq")) {
        REQUIRE(d["fromSeq"].GetInt64() == next);
        next = d["toSeq"].GetInt64() + 1;
      } else if (d.HasMember("seq")) {
        REQUIRE(d["seq"].GetInt64() == next);
        seen.push_back(next++);
      }
    }
    CHECK(next == n + 1);
    // Every decision arrived, and the latest of each key.
    for (const auto s : decisions) CHECK(std::find(seen.begin(), seen.end(), s) != seen.end());
    for (const auto& [key, s] : last_of) CHECK(std::find(seen.begin(), seen.end(), s) != seen.end());
  }
}

TEST_CASE("a long burst of one key stays one marker and one event", "[conflation]") {
  conflation_buffer b;
  for (std::int64_t seq = 1; seq <= 100'000; ++seq) b.add(app(seq, "portfolio_update", "p1"));
  CHECK(b.size() == 2);
  CHECK(b.slot_count() <= 2 * b.size() + 17);
  CHECK(members(b.take()) == std::vector<std::string>{R"({"type":"conflated","fromSeq":1,"toSeq":99999})",
                                                      R"({"type":"portfolio_update","seq":100000})"});
}

TEST_CASE("a seq lower than a marker's never extends it backwards", "[conflation]") {
  // Only if the user's seq went back (Redis lost data) without the resync that flushes first.
  conflation_buffer b;
  b.add(app(100, "portfolio_update", "a"));
  b.add(app(5, "portfolio_update", "b"));
  b.add(app(101, "portfolio_update", "a"));
  b.add(app(6, "portfolio_update", "b"));
  CHECK(members(b.take()) == std::vector<std::string>{R"({"type":"conflated","fromSeq":100,"toSeq":100})",
                                                      R"({"type":"conflated","fromSeq":5,"toSeq":5})",
                                                      R"({"type":"portfolio_update","seq":101})",
                                                      R"({"type":"portfolio_update","seq":6})"});
}
