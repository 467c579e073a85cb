#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "ingest/publish/shard.hpp"
#include "ingest/sources/capture_reader.hpp"
#include "ingest/sources/replay_clock.hpp"

using namespace tickstream;

namespace {

std::string tick_line(const std::string& symbol, const std::string& price, long long recv_us) {
  return R"({"type":"price_update","symbol":")" + symbol + R"(","price":)" + price +
         R"(,"timestamp":"2026-11-20T14:30:00Z","recv_us":)" + std::to_string(recv_us) + R"(,"source":"sample"})";
}

}  // namespace

TEST_CASE("the capture reader decodes good lines and reports bad ones by line number", "[capture]") {
  std::stringstream in;
  in << tick_line("AAPL", "1.00", 1795185000000000) << "\n"
     << "\n"                                               // blank: skipped
     << "# a comment\n"                                    // comment: skipped
     << "{not json\n"                                      // line 4
     << tick_line("MSFT", "-2", 1795185000000001) << "\n"  // line 5: bad price
     << R"({"type":"weather","symbol":"X"})"
     << "\n"                                                   // line 6: unknown type
     << tick_line("MSFT", "2.00", 1795185000000002) << "\r\n"  // CRLF tolerated
     << tick_line("NVDA", "3.00", 1795185000000003);           // no final newline
  ingest::capture_reader reader(in);

  std::vector<std::pair<std::size_t, std::string>> outcomes;
  while (auto item = reader.next()) {
    outcomes.emplace_back(item->line_no,
                          item->event.ok()
                              ? std::get<common::price_update>(std::get<common::event>(item->event.value())).symbol
                              : "error:" + item->event.err().code);
  }
  const std::vector<std::pair<std::size_t, std::string>> expected = {
      {1, "AAPL"}, {4, "error:invalid_json"}, {5, "error:invalid_event"}, {6, "error:unknown_type"}, {7, "MSFT"},
      {8, "NVDA"}};
  CHECK(outcomes == expected);
}

TEST_CASE("raw upstream messages are read as such, with their source and receive time", "[capture]") {
  std::stringstream in;
  in << R"({"recv_us":1795185000064264,"source":"finnhub","raw":"{\"type\":\"ping\"}"})"
     << "\n"
     << R"({"recv_us":1795185000064264,"raw":"x"})"
     << "\n";
  ingest::capture_reader reader(in);
  auto first = reader.next();
  REQUIRE(first);
  REQUIRE(first->event.ok());
  const auto& raw = std::get<ingest::capture_reader::raw_message>(first->event.value());
  CHECK(raw.source == "finnhub");
  CHECK(raw.recv_us == 1795185000064264);
  CHECK(raw.text == R"({"type":"ping"})");
  auto second = reader.next();
  REQUIRE(second);
  REQUIRE_FALSE(second->event.ok());
  CHECK(second->event.err().message == "field 'source': is required");
}

TEST_CASE("an over-long line is reported and skipped without losing the next one", "[capture]") {
  std::stringstream in;
  in << std::string(ingest::capture_reader::max_line_bytes + 10, 'x') << "\n"
     << tick_line("AAPL", "1.00", 1795185000000000) << "\n";
  ingest::capture_reader reader(in);
  auto first = reader.next();
  REQUIRE(first);
  REQUIRE_FALSE(first->event.ok());
  CHECK(first->event.err().code == "line_too_long");
  auto second = reader.next();
  REQUIRE(second);
  CHECK(second->line_no == 2);
  CHECK(second->event.ok());
  CHECK_FALSE(reader.next());
}

TEST_CASE("replay speed parses factors and max", "[replay]") {
  CHECK(ingest::replay_speed::parse("1")->factor == 1.0);
  CHECK(ingest::replay_speed::parse("10")->factor == 10.0);
  CHECK(ingest::replay_speed::parse("0.5")->factor == 0.5);
  CHECK(ingest::replay_speed::parse("max")->max);
  for (const char* bad : {"0", "-1", "fast", "", "1x", "inf", "nan"}) {
    INFO(bad);
    CHECK_FALSE(ingest::replay_speed::parse(bad));
  }
}

TEST_CASE("replay pacing keeps the capture's gaps divided by the speed", "[replay]") {
  ingest::replay_clock clock(*ingest::replay_speed::parse("10"));
  clock.begin_pass(1'000'000);
  CHECK(clock.due_us(50'000'000) == 1'000'000);  // first event: at once
  CHECK(clock.due_us(51'000'000) == 1'100'000);  // 1 s later in the capture: 0.1 s later
  CHECK(clock.due_us(60'000'000) == 2'000'000);
  clock.begin_pass(9'000'000);  // a new pass (--loop) starts over
  CHECK(clock.due_us(50'000'000) == 9'000'000);

  ingest::replay_clock fast(*ingest::replay_speed::parse("max"));
  fast.begin_pass(5);
  CHECK(fast.due_us(123) == 5);
  CHECK(fast.due_us(999'999'999) == 5);
}

TEST_CASE("time shifting moves an event to now and keeps its source-to-receive lag", "[replay]") {
  common::price_update t;
  t.source_time_us = 1'000'000;
  t.recv_time_us = 1'025'000;  // received 25 ms after the source time
  ingest::time_shift(t, 9'000'000);
  CHECK(t.recv_time_us == 9'000'000);
  CHECK(t.source_time_us == 8'975'000);
}

TEST_CASE("shards split symbols disjointly and completely", "[shard]") {
  CHECK_FALSE(ingest::shard::parse("2/2"));
  CHECK_FALSE(ingest::shard::parse("1"));
  CHECK_FALSE(ingest::shard::parse("/2"));
  CHECK_FALSE(ingest::shard::parse("0/0"));
  const auto a = *ingest::shard::parse("0/3");
  const auto b = *ingest::shard::parse("1/3");
  const auto c = *ingest::shard::parse("2/3");
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 3000; ++i) {
    const auto sym = "S" + std::to_string(i);
    const int owners = (a.owns(sym) ? 1 : 0) + (b.owns(sym) ? 1 : 0) + (c.owns(sym) ? 1 : 0);
    REQUIRE(owners == 1);
    counts[a.owns(sym) ? 0 : b.owns(sym) ? 1 : 2]++;
  }
  for (const int n : counts) CHECK(n > 800);  // roughly even
  CHECK(ingest::shard{}.owns("ANYTHING"));    // the default 0/1 owns all
}
