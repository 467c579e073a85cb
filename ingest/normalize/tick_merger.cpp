#include "ingest/normalize/tick_merger.hpp"

#include <charconv>

#include "common/decimal.hpp"

namespace tickstream::ingest {

common::price_update tick_merger::make(const std::string& symbol, const state& s, std::int64_t time_us,
                                       std::int64_t recv_us) const {
  common::price_update t;
  t.symbol = symbol;
  t.price = *s.price;
  t.size = s.size;
  t.bid = s.bid;
  t.ask = s.ask;
  t.bid_size = s.bid_size;
  t.ask_size = s.ask_size;
  t.source_time_us = time_us;
  t.recv_time_us = recv_us;
  t.source = source_;
  return t;
}

common::price_update tick_merger::on_trade(const std::string& symbol, std::string price,
                                           std::optional<std::string> size, std::int64_t time_us,
                                           std::int64_t recv_us) {
  auto& s = symbols_[symbol];
  s.price = std::move(price);
  s.size = std::move(size);
  return make(symbol, s, time_us, recv_us);
}

std::optional<common::price_update> tick_merger::on_quote(const std::string& symbol, std::string bid,
                                                          std::string bid_size, std::string ask, std::string ask_size,
                                                          std::int64_t time_us, std::int64_t recv_us) {
  auto& s = symbols_[symbol];
  s.bid = std::move(bid);
  s.bid_size = std::move(bid_size);
  s.ask = std::move(ask);
  s.ask_size = std::move(ask_size);
  if (!s.price) return std::nullopt;
  return make(symbol, s, time_us, recv_us);
}

std::optional<std::string> plain_decimal(std::string_view text) {
  if (common::is_plain_decimal(text)) return std::string(text);
  const auto e = text.find_first_of("eE");
  if (e == std::string_view::npos || text.size() > 40) return std::nullopt;
  const auto mantissa = text.substr(0, e);
  int exp = 0;
  const auto exp_text = text.substr(e + 1);
  const char* b = exp_text.data() + (exp_text.starts_with('+') ? 1 : 0);
  const auto [end, ec] = std::from_chars(b, exp_text.data() + exp_text.size(), exp);
  if (ec != std::errc{} || end != exp_text.data() + exp_text.size() || exp < -30 || exp > 30) return std::nullopt;
  if (!common::is_plain_decimal(mantissa)) return std::nullopt;
  const bool negative = mantissa.front() == '-';
  std::string digits;
  int point = 0;  // digits before the decimal point
  bool seen_point = false;
  for (const char c : mantissa.substr(negative ? 1 : 0)) {
    if (c == '.') {
      seen_point = true;
      continue;
    }
    digits += c;
    if (!seen_point) ++point;
  }
  point += exp;
  std::string out;
  if (point <= 0) {
    out = "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
  } else if (static_cast<std::size_t>(point) >= digits.size()) {
    out = digits + std::string(static_cast<std::size_t>(point) - digits.size(), '0');
  } else {
    out = digits.substr(0, static_cast<std::size_t>(point)) + "." + digits.substr(static_cast<std::size_t>(point));
  }
  // Canonical form: no leading zeros in the integer part, no trailing zeros after a point.
  const auto first = out.find_first_not_of('0');
  if (first == std::string::npos) return std::string("0");
  if (out[first] == '.') {
    out.erase(0, first - 1);
  } else {
    out.erase(0, first);
  }
  if (out.find('.') != std::string::npos) {
    out.erase(out.find_last_not_of('0') + 1);
    if (out.back() == '.') out.pop_back();
  }
  if (negative && out != "0") out.insert(0, "-");
  if (!common::is_plain_decimal(out)) return std::nullopt;
  return out;
}

}  // namespace tickstream::ingest
