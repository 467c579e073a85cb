#include "ingest/normalize/alpaca_market_normalizer.hpp"

#include <rapidjson/document.h>

#include "common/decimal.hpp"
#include "ingest/normalize/source_json.hpp"

namespace tickstream::ingest {
namespace {

// What an edge accepts of a tick (common/event_codec): a time from 2000 to 2100, and a quote's
// bid and ask both positive with the ask not below the bid. A quote outside that would also
// stay in the merger and ride on every later trade of the symbol, so it is refused whole.
void check_time(common::json_reader& r, const std::optional<std::int64_t>& time) {
  if (time && (*time < 946'684'800'000'000LL || *time > 4'102'444'800'000'000LL)) {
    r.fail("t", "must be between 2000-01-01 and 2100-01-01");
  }
}

}  // namespace

normalized alpaca_market_normalizer::normalize(std::string_view raw, std::int64_t recv_us) {
  normalized out;
  rapidjson::Document doc;
  if (!parse_upstream(doc, raw, out, true, "Alpaca market data")) return out;
  std::size_t index = 0;
  for (const auto& item : doc.GetArray()) {
    const auto where = "[" + std::to_string(index++) + "]";
    if (!item.IsObject()) {
      out.problems.push_back({"invalid_message", where + ": must be an object"});
      continue;
    }
    common::json_reader r(item, "invalid_message");
    const auto type = r.string("T", true, 32);
    const auto fail = [&](const char* code) {
      auto e = *r.failure();
      e.code = code;
      e.message = where + ": " + e.message;
      out.problems.push_back(std::move(e));
    };
    if (!type) {
      fail("invalid_message");
      continue;
    }
    if (*type == "t") {
      const auto symbol = upstream_symbol(r, "S");
      auto price = upstream_decimal(r, "p", true, true);
      auto size = upstream_decimal(r, "s", false, false);
      const auto time = r.timestamp("t", true);
      check_time(r, time);
      if (!r.ok()) {
        fail("invalid_trade");
        continue;
      }
      out.events.emplace_back(merger_.on_trade(*symbol, std::move(*price), std::move(size), *time, recv_us));
    } else if (*type == "q") {
      const auto symbol = upstream_symbol(r, "S");
      auto bid = upstream_decimal(r, "bp", true, false);
      auto bid_size = upstream_decimal(r, "bs", true, false);
      auto ask = upstream_decimal(r, "ap", true, false);
      auto ask_size = upstream_decimal(r, "as", true, false);
      const auto time = r.timestamp("t", true);
      check_time(r, time);
      if (r.ok() && (common::compare_decimal(*bid, "0") <= 0 || common::compare_decimal(*ask, "0") <= 0)) {
        r.fail("bp", "a one-sided quote (bid or ask 0) is not a tick");
      }
      if (r.ok() && common::compare_decimal(*ask, *bid) < 0) r.fail("ap", "must not be below the bid");
      if (!r.ok()) {
        fail("invalid_quote");
        continue;
      }
      if (auto tick = merger_.on_quote(*symbol, std::move(*bid), std::move(*bid_size), std::move(*ask),
                                       std::move(*ask_size), *time, recv_us)) {
        out.events.emplace_back(std::move(*tick));
      }
    } else if (*type == "success") {
      const auto msg = r.string("msg", false, 64);
      out.notices.emplace_back(msg ? std::string(*msg) : std::string("success"));
    } else if (*type == "subscription") {
      out.notices.emplace_back("subscribed");
    } else if (*type == "error") {
      const auto code = r.integer("code", false, 0, 1'000'000);
      const auto msg = r.string("msg", false, 512);
      out.problems.push_back({"upstream_error", (code ? "code " + std::to_string(*code) + ": " : std::string()) +
                                                    std::string(msg ? *msg : "error without a message")});
    } else if (*type == "b" || *type == "d" || *type == "u" || *type == "s" || *type == "l" || *type == "c" ||
               *type == "x") {
      // Bars, statuses, LULDs, corrections, cancels: valid, not turned into ticks.
    } else {
      out.problems.push_back({"unknown_type", where + ": unknown Alpaca message type '" + std::string(*type) + "'"});
    }
  }
  return out;
}

}  // namespace tickstream::ingest
