// The normalizer of Alpaca's market data v2 WebSocket (ingest::alpaca_market_normalizer) on arbitrary text, one
// upstream message per line of the input (so the tick merger's state carries from one message to the next, as on a live
// connection). Checked: every event is a price_update of this source for a normalized symbol with a positive plain
// decimal price, received when the message was, and survives publication (encode, then decode
// at the edge, gives it back).
#include <cstddef>
#include <cstdint>

#include "common/decimal.hpp"
#include "common/symbol.hpp"
#include "ingest/normalize/alpaca_market_normalizer.hpp"
#include "tests/fuzz/event_checks.hpp"

using namespace tickstream;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ingest::alpaca_market_normalizer normalizer;
  std::int64_t recv_us = 1'700'000'000'000'000;
  for (const auto line : fuzz::lines(fuzz::as_view(data, size))) {
    recv_us += 1000;
    const auto out = normalizer.normalize(line, recv_us);
    for (const auto& ev : out.events) {
      const auto* tick = std::get_if<common::price_update>(&ev);
      FUZZ_CHECK(tick != nullptr);
      FUZZ_CHECK(tick->source == "alpaca");
      FUZZ_CHECK(tick->recv_time_us == recv_us);
      const auto sym = common::normalize_symbol(tick->symbol);
      FUZZ_CHECK(sym.ok() && sym.value() == tick->symbol);
      FUZZ_CHECK(common::is_plain_decimal(tick->price) && common::compare_decimal(tick->price, "0") > 0);
      fuzz::check_published(ev);
    }
    for (const auto& p : out.problems) FUZZ_CHECK(!p.code.empty());
  }
  return 0;
}
