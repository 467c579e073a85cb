#include "edge/portfolio/rest_api.hpp"

#include <algorithm>
#include <cctype>

#include "common/symbol.hpp"
#include "edge/portfolio/portfolio.hpp"
#include "edge/portfolio/state_view.hpp"
#include "edge/protocol/client_protocol.hpp"

namespace tickstream::edge {
namespace {

// The percent-decoded value of query parameter name in target (nullopt: absent).
std::optional<std::string> query_param(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    std::string out;
    const auto raw = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    for (std::size_t i = 0; i < raw.size(); ++i) {
      const auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
      if (raw[i] == '%' && i + 2 < raw.size() && hex(raw[i + 1]) && hex(raw[i + 2])) {
        out += static_cast<char>(std::stoi(std::string(raw.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        out += raw[i] == '+' ? ' ' : raw[i];
      }
    }
    return out;
  }
  return std::nullopt;
}

constexpr std::size_t max_rest_symbols = 1000;

}  // namespace

std::optional<rest_endpoint> rest_endpoint_of(std::string_view path) {
  if (path == "/api/positions") return rest_endpoint::positions;
  if (path == "/api/orders") return rest_endpoint::orders;
  if (path == "/api/account") return rest_endpoint::account;
  if (path == "/api/prices") return rest_endpoint::prices;
  return std::nullopt;
}

std::string_view rest_endpoint_name(rest_endpoint e) {
  switch (e) {
    case rest_endpoint::positions: return "positions";
    case rest_endpoint::orders: return "orders";
    case rest_endpoint::account: return "account";
    case rest_endpoint::prices: return "prices";
  }
  return "unknown";
}

common::result<state_request> rest_state_request(rest_endpoint e, const std::string& user_id, std::string_view target) {
  state_request req;
  if (e != rest_endpoint::prices) {
    req.user_id = user_id;
    // Positions and the account are marked to market: both need the positions and their prices.
    req.positions = e == rest_endpoint::positions || e == rest_endpoint::account;
    req.orders = e == rest_endpoint::orders;
    req.account = e == rest_endpoint::account;
    return req;
  }
  const auto list = query_param(target, "symbols");
  if (!list || list->empty()) {
    return common::error{"bad_request", "parameter 'symbols': give a comma-separated list, e.g. ?symbols=AAPL,MSFT"};
  }
  std::string_view rest = *list;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const auto raw = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (raw.empty()) continue;
    auto sym = common::normalize_symbol(raw);
    if (!sym)
      return common::error{sym.err().code,
                           "parameter 'symbols': '" + std::string(raw.substr(0, 40)) + "': " + sym.err().message};
    if (std::find(req.symbols.begin(), req.symbols.end(), sym.value()) == req.symbols.end()) {
      req.symbols.push_back(std::move(sym).value());
    }
    if (req.symbols.size() > max_rest_symbols) {
      return common::error{"bad_request",
                           "parameter 'symbols': at most " + std::to_string(max_rest_symbols) + " symbols"};
    }
  }
  if (req.symbols.empty()) return common::error{"bad_request", "parameter 'symbols': no symbol given"};
  return req;
}

std::string render_rest(rest_endpoint e, const state_request& req, const private_state& st, std::size_t& invalid) {
  snapshot_parts parts;
  std::vector<std::string> positions;
  std::vector<std::string> prices;
  std::optional<std::string> account;
  auto state = decode_state(st, req.user_id);
  invalid = state.invalid;
  if (e == rest_endpoint::prices) {
    std::vector<std::string> missing;
    for (const auto& symbol : req.symbols) {
      const auto it =
          std::find_if(st.prices.begin(), st.prices.end(), [&](const auto& p) { return p.first == symbol; });
      if (it == st.prices.end())
        missing.push_back("\"" + symbol + "\"");
      else
        prices.push_back(it->second);
    }
    parts.prices = &prices;
    auto body = render_snapshot(parts);
    body.pop_back();
    body += ",\"missing\":[";
    for (std::size_t i = 0; i < missing.size(); ++i) body += (i > 0 ? "," : "") + missing[i];
    return body + "]}";
  }
  parts.seq = st.seq;
  portfolio p;
  p.reset(std::move(state.positions), std::move(state.account));
  set_prices(p, st);
  if (e == rest_endpoint::positions) {
    positions = encode_positions(p);
    parts.positions = &positions;
  } else if (e == rest_endpoint::orders) {
    parts.orders = &state.orders;
  } else {
    account = encode_account(p);
    parts.with_account = true;
    parts.account = account ? &*account : nullptr;
  }
  return render_snapshot(parts);
}

}  // namespace tickstream::edge
