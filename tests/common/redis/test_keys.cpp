// The tier's Redis names, written out: these strings are the contract between ingest, edges and
// operators (docs/OPERATIONS.md, "Redis layout"), so they are checked literally here.
#include <catch2/catch.hpp>

#include <optional>
#include <string_view>

#include "common/redis/keys.hpp"

using namespace tickstream::common;

TEST_CASE("market channel names carry a hash tag and map back to the symbol", "[keys]") {
  CHECK(market_channel("AAPL") == "ts:{md:AAPL}");
  CHECK(market_last_key("AAPL") == "ts:{md:AAPL}:last");
  CHECK(symbol_of_market_channel("ts:{md:AAPL}") == std::optional<std::string_view>("AAPL"));
  CHECK(symbol_of_market_channel(market_channel("BINANCE:BTCUSDT")) ==
        std::optional<std::string_view>("BINANCE:BTCUSDT"));
  CHECK_FALSE(symbol_of_market_channel("ts:{u:42}").has_value());
  CHECK_FALSE(symbol_of_market_channel("ts:{md:}").has_value());
  CHECK_FALSE(symbol_of_market_channel("ts:{md:AAPL}:last").has_value());
}

TEST_CASE("a topic's channel and retained key share one hash tag and the channel maps back", "[keys]") {
  CHECK(topic_channel("news") == "ts:{t:news}");
  CHECK(topic_last_key("signals:momentum") == "ts:{t:signals:momentum}:last");
  CHECK(topic_of_channel("ts:{t:signals:momentum}") == std::optional<std::string_view>("signals:momentum"));
  CHECK_FALSE(topic_of_channel("ts:{t:}").has_value());
  CHECK_FALSE(topic_of_channel("ts:{t:news}:last").has_value());
  CHECK_FALSE(topic_of_channel("ts:{u:news}").has_value());
}

TEST_CASE("a user's channel and keys share one hash tag and the channel maps back to the user", "[keys]") {
  CHECK(user_channel("u-42") == "ts:{u:u-42}");
  CHECK(user_of_channel("ts:{u:u-42}") == std::optional<std::string_view>("u-42"));
  CHECK(user_of_channel(user_channel("a:b.c")) == std::optional<std::string_view>("a:b.c"));
  CHECK_FALSE(user_of_channel("ts:{u:}").has_value());
  CHECK_FALSE(user_of_channel("ts:{md:AAPL}").has_value());
  CHECK_FALSE(user_of_channel("ts:{u:u-42}:seq").has_value());
  CHECK(user_key("u-42", user_data::seq) == "ts:{u:u-42}:seq");
  CHECK(user_key("u-42", user_data::hist) == "ts:{u:u-42}:hist");
  CHECK(user_key("u-42", user_data::pos) == "ts:{u:u-42}:pos");
  CHECK(user_key("u-42", user_data::orders) == "ts:{u:u-42}:orders");
  CHECK(user_key("u-42", user_data::acct) == "ts:{u:u-42}:acct");
  CHECK(user_key("u-42", user_data::execs) == "ts:{u:u-42}:execs");
  CHECK(user_key("u-42", user_data::conns) == "ts:{u:u-42}:conns");
  CHECK(user_key("u-42", user_data::ent) == "ts:{u:u-42}:ent");
}

TEST_CASE("the system's names", "[keys]") {
  CHECK(source_status_channel == "ts:sys");
  CHECK(source_status_key("finnhub") == "ts:sys:source:finnhub");
  CHECK(edge_control_channel("edge-a") == "ts:edge:edge-a");
  CHECK(default_control_channel == "ts:ctl");
  CHECK(session_key("abc") == "ts:sess:abc");
  CHECK(dead_letter_stream == "ts:dead");
  CHECK(tier_control_channel == "ts:tier");
  CHECK(revoked_key("s-1") == "ts:revoked:s-1");
  CHECK(plan_entitlements_key("basic") == "ts:ent:plan:basic");
}
