#include "edge/state_view.hpp"

#include <algorithm>

#include "common/event_codec.hpp"
#include "edge/private_frame.hpp"

namespace tickstream::edge {

decoded_state decode_state(const private_state& st, std::string_view user_id) {
  decoded_state out;
  const auto note = [&out](const std::string& source) {
    if (!source.empty() && std::find(out.sources.begin(), out.sources.end(), source) == out.sources.end()) {
      out.sources.push_back(source);
    }
  };
  for (const auto& json : st.positions) {
    auto d = decode_private_frame(json, user_id);
    if (!d || !std::holds_alternative<common::position_update>(d->second)) {
      ++out.invalid;
      continue;
    }
    note(d->first->source);
    out.positions.push_back(std::get<common::position_update>(std::move(d->second)));
  }
  for (const auto& json : st.orders) {
    auto d = decode_private_frame(json, user_id);
    if (!d || !std::holds_alternative<common::order_update>(d->second)) {
      ++out.invalid;
      continue;
    }
    note(d->first->source);
    out.orders.push_back(json);
  }
  if (st.account) {
    auto d = decode_private_frame(*st.account, user_id);
    if (d && std::holds_alternative<common::account_update>(d->second)) {
      note(d->first->source);
      out.account = std::get<common::account_update>(std::move(d->second));
    } else {
      ++out.invalid;
    }
  }
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
