// The tick merger (ingest::tick_merger) and the exact rewriting of upstream numbers
// (ingest::plain_decimal), driven by arbitrary bytes. A sequence of trades and quotes over a few
// symbols is checked against a model: every tick carries the symbol's latest trade and latest
// quote, a quote before the symbol's first trade yields nothing, and nothing leaks between
// symbols. Each number's text is rewritten by plain_decimal: an accepted one is a plain decimal
// with the sign kept, rewritten to itself again, and (when it had no exponent) equal in value.
#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/decimal.hpp"
#include "ingest/normalize/tick_merger.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace tickstream;

namespace {

struct model {
  std::optional<std::string> price, size, bid, bid_size, ask, ask_size;
};

// A plain decimal with its point moved one digit left ("12.5" -> "1.25", "5" -> "0.5").
std::optional<std::string> shifted_left(std::string m) {
  const bool negative = !m.empty() && m[0] == '-';
  if (negative) m.erase(0, 1);
  const auto dot = m.find('.');
  std::string int_part = m.substr(0, dot);
  const std::string frac = dot == std::string::npos ? "" : m.substr(dot + 1);
  if (int_part.empty()) return std::nullopt;
  const char moved = int_part.back();
  int_part.pop_back();
  while (int_part.size() > 1 && int_part[0] == '0') int_part.erase(0, 1);
  if (int_part.empty()) int_part = "0";
  return (negative ? "-" : "") + int_part + "." + moved + frac;
}

// A number's text from the input, through plain_decimal as the normalizers read it.
std::string number(FuzzedDataProvider& in) {
  const auto raw = in.ConsumeRandomLengthString(48);
  const auto plain = ingest::plain_decimal(raw);
  if (!plain) return "1";
  FUZZ_CHECK(common::is_plain_decimal(*plain));
  FUZZ_CHECK(ingest::plain_decimal(*plain) == *plain);
  const bool negative_in = !raw.empty() && raw.front() == '-';
  if ((*plain)[0] == '-') FUZZ_CHECK(negative_in);
  if (common::is_plain_decimal(raw)) {
    FUZZ_CHECK(*plain == raw);
    return *plain;
  }
  // An exponent form: the same value with the point moved one digit left and the exponent one
  // up ("12.5e-3" and "1.25e-2") is rewritten to the same text.
  const auto e = raw.find_first_of("eE");
  FUZZ_CHECK(e != std::string::npos);
  const auto exp_text = raw.substr(e + 1);
  int exp = 0;
  const char* b = exp_text.data() + (!exp_text.empty() && exp_text[0] == '+' ? 1 : 0);
  const auto [end, ec] = std::from_chars(b, exp_text.data() + exp_text.size(), exp);
  FUZZ_CHECK(ec == std::errc{} && end == exp_text.data() + exp_text.size());
  if (const auto left = shifted_left(raw.substr(0, e)); left && exp < 30) {
    const auto alt = *left + "e" + std::to_string(exp + 1);
    if (alt.size() <= 40 && common::is_plain_decimal(*left)) FUZZ_CHECK(ingest::plain_decimal(alt) == plain);
  }
  return *plain;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  static const std::array<std::string, 4> symbols = {"AAPL", "MSFT", "BTC-USD", "BINANCE:BTCUSDT"};
  ingest::tick_merger merger("fuzz");
  std::map<std::string, model> expected;
  std::int64_t t = 1'700'000'000'000'000;
  for (int step = 0; step < 256 && in.remaining_bytes() > 0; ++step) {
    const auto& sym = symbols[in.ConsumeIntegralInRange<std::size_t>(0, symbols.size() - 1)];
    auto& m = expected[sym];
    t += in.ConsumeIntegralInRange<std::int64_t>(0, 1'000'000);
    if (in.ConsumeBool()) {
      m.price = number(in);
      m.size = in.ConsumeBool() ? std::optional<std::string>(number(in)) : std::nullopt;
      const auto tick = merger.on_trade(sym, *m.price, m.size, t, t + 5);
      FUZZ_CHECK(tick.symbol == sym && tick.source == "fuzz" && tick.source_time_us == t && tick.recv_time_us == t + 5);
      FUZZ_CHECK(tick.price == *m.price && tick.size == m.size);
      FUZZ_CHECK(tick.bid == m.bid && tick.ask == m.ask && tick.bid_size == m.bid_size && tick.ask_size == m.ask_size);
    } else {
      m.bid = number(in);
      m.bid_size = number(in);
      m.ask = number(in);
      m.ask_size = number(in);
      const auto tick = merger.on_quote(sym, *m.bid, *m.bid_size, *m.ask, *m.ask_size, t, t + 5);
      FUZZ_CHECK(tick.has_value() == m.price.has_value());
      if (tick) {
        FUZZ_CHECK(tick->symbol == sym && tick->price == *m.price && tick->size == m.size);
        FUZZ_CHECK(tick->bid == m.bid && tick->ask == m.ask && tick->bid_size == m.bid_size &&
                   tick->ask_size == m.ask_size);
      }
    }
  }
  return 0;
}
