#pragma once
// A user's private state as read from Redis (private_state_reader), decoded for use: the
// positions and account as events, and a portfolio marked with the last ticks read with them.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/event.hpp"
#include "edge/portfolio/portfolio.hpp"
#include "edge/portfolio/private_state_reader.hpp"

namespace tickstream::edge {

struct decoded_state {
  std::vector<common::position_update> positions;
  std::optional<common::account_update> account;
  std::vector<std::string> orders;   // open orders, as stored (each checked)
  std::vector<std::string> sources;  // that produced them
  std::size_t invalid = 0;           // stored entries that did not decode (counted, skipped)
};

decoded_state decode_state(const private_state& st, std::string_view user_id);

// Sets the price of every held symbol that has a last tick in st.
void set_prices(portfolio& p, const private_state& st);

// The positions of p (each marked at its price) and its account, as event messages.
std::vector<std::string> encode_positions(const portfolio& p);
std::optional<std::string> encode_account(const portfolio& p);

}  // namespace tickstream::edge
