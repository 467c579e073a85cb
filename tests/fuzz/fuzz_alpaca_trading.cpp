// The normalizer of Alpaca's trading stream (ingest::alpaca_trading_normalizer) on arbitrary
// text, one upstream message per line of the input. Checked: every event is a private event of
// the stream's user and source, received when the message was, with a de-duplication id (a
// redelivered broker message must be stored once), and survives publication (encode, then decode
// at the edge, gives it back); a trade's execution comes with its order's update.
#include <cstddef>
#include <cstdint>

#include "ingest/normalize/alpaca_trading_normalizer.hpp"
#include "tests/fuzz/event_checks.hpp"

using namespace tickstream;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ingest::alpaca_trading_normalizer normalizer("u-fuzz");
  std::int64_t recv_us = 1'700'000'000'000'000;
  for (const auto line : fuzz::lines(fuzz::as_view(data, size))) {
    recv_us += 1000;
    const auto out = normalizer.normalize(line, recv_us);
    bool order = false, trade = false;
    for (const auto& ev : out.events) {
      FUZZ_CHECK(!std::holds_alternative<common::price_update>(ev));
      std::visit(
          [&](const auto& e) {
            if constexpr (!std::is_same_v<std::decay_t<decltype(e)>, common::price_update>) {
              FUZZ_CHECK(e.header.user_id == "u-fuzz");
              FUZZ_CHECK(e.header.source == "alpaca-trading");
              FUZZ_CHECK(e.header.recv_time_us == recv_us);
              FUZZ_CHECK(!e.header.dedupe_id.empty());
            }
          },
          ev);
      order |= std::holds_alternative<common::order_update>(ev);
      trade |= std::holds_alternative<common::trade_executed>(ev);
      fuzz::check_published(ev);
    }
    if (trade) FUZZ_CHECK(order);
    for (const auto& p : out.problems) FUZZ_CHECK(!p.code.empty());
  }
  return 0;
}
