#include "edge/portfolio/state_view.hpp"

#include <algorithm>

#include "common/event_codec.hpp"
#include "edge/portfolio/private_frame.hpp"

namespace tickstream::edge {

decoded_state decode_state(const private_state& st, std::string_view user_id) {
  decoded_state out;
  const auto note = [&out](const std::string& source) {
    if (!source.empty() && std::find(out.sources.begin(), out.sources.end(), source) == out.sources.end()) {
      out.sources.push_back(source);
    }
  };
  // Each stored entry must decode as a private event of kind T for this user; others are counted.
  const auto decode = [&]<class T>(const std::string& json) -> std::optional<T> {
    auto d = decode_private_frame(json, user_id);
    if (!d || !std::holds_alternative<T>(*d.value()->event)) {
      ++out.invalid;
      return std::nullopt;
    }
    note(d.value()->source);
    return std::get<T>(*d.value()->event);
  };
  for (const auto& json : st.positions) {
    if (auto p = decode.template operator()<common::position_update>(json)) out.positions.push_back(std::move(*p));
  }
  for (const auto& json : st.orders) {
    if (decode.template operator()<common::order_update>(json)) out.orders.push_back(json);
  }
  if (st.account) out.account = decode.template operator()<common::account_update>(*st.account);
  return out;
}

void set_prices(portfolio& p, const private_state& st) {
  for (const auto& [symbol, tick] : st.prices) {
    if (!p.holds(symbol)) continue;
    if (auto d = common::decode_event(tick); d && std::holds_alternative<common::price_update>(d.value())) {
      p.set_price(symbol, std::get<common::price_update>(d.value()).price);
    }
  }
}

std::vector<std::string> encode_positions(const portfolio& p) {
  std::vector<std::string> out;
  for (const auto& symbol : p.symbols()) out.push_back(common::encode_event(*p.marked_position(symbol)));
  return out;
}

std::optional<std::string> encode_account(const portfolio& p) {
  auto a = p.marked_account();
  if (!a) return std::nullopt;
  return common::encode_event(*a);
}

}  // namespace tickstream::edge
