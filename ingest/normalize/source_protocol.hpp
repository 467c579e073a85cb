#pragma once
// What an upstream source expects on its WebSocket: the messages to send once connected and in
// reaction to what it says (auth -> subscribe), and how to read what it sends. Pure: no sockets,
// so the handshakes are tested message by message.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/normalize/normalized.hpp"

namespace tickstream::ingest {

class source_protocol {
 public:
  virtual ~source_protocol() = default;
  // The source's name in captures, metrics and logs.
  virtual const std::string& name() const = 0;
  // Sent right after the WebSocket handshake.
  virtual std::vector<std::string> on_open() = 0;
  // Sent in reaction to a notice of a normalized message ("connected", "authenticated", ...).
  virtual std::vector<std::string> on_notice(std::string_view notice) = 0;
  virtual normalized normalize(std::string_view raw, std::int64_t recv_us) = 0;
  // Problems after which the connection is useless (auth refused, subscription refused): the
  // adapter closes it and retries with backoff rather than spin.
  static bool is_fatal(const common::error& problem) noexcept {
    return problem.code == "auth_refused" || problem.code == "subscription_refused";
  }
};

// Finnhub: one {"type":"subscribe","symbol":...} per symbol; the API token is in the URL.
std::unique_ptr<source_protocol> make_finnhub_protocol(std::vector<std::string> symbols);
// Alpaca market data v2: after "connected", {"action":"auth","key","secret"}; after
// "authenticated", {"action":"subscribe","trades":[...],"quotes":[...]}.
std::unique_ptr<source_protocol> make_alpaca_market_protocol(std::string key, std::string secret,
                                                             std::vector<std::string> symbols);
// Alpaca trading: {"action":"auth","key","secret"} at once; after "authenticated",
// {"action":"listen","data":{"streams":["trade_updates"]}}. user_id: whose account it is.
std::unique_ptr<source_protocol> make_alpaca_trading_protocol(std::string key, std::string secret, std::string user_id);

}  // namespace tickstream::ingest
