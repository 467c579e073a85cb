#include <catch2/catch.hpp>

#include "ingest/sources/source_url.hpp"

using namespace tickstream::ingest;

TEST_CASE("an upstream URL is split into TLS, host, port and target, with the scheme's default port", "[source_url]") {
  auto u = parse_source_url("wss://stream.data.alpaca.markets/v2/iex", "ws", "wss");
  REQUIRE(u);
  CHECK(u->tls);
  CHECK(u->host == "stream.data.alpaca.markets");
  CHECK(u->port == "443");
  CHECK(u->target == "/v2/iex");
  u = parse_source_url("http://127.0.0.1:8091", "http", "https");
  REQUIRE(u);
  CHECK_FALSE(u->tls);
  CHECK(u->host == "127.0.0.1");
  CHECK(u->port == "8091");
  CHECK(u->target == "/");
  u = parse_source_url("ws://feed?token=x", "ws", "wss");
  REQUIRE(u);
  CHECK(u->port == "80");
  CHECK(u->host == "feed");  // a query without a path (Finnhub's ?token=) is not part of the host
  CHECK(u->target == "/?token=x");
  CHECK_FALSE(parse_source_url("https://api.example", "ws", "wss"));  // another scheme
  CHECK_FALSE(parse_source_url("wssx://h/", "ws", "wss"));
  CHECK_FALSE(parse_source_url("ws:///path", "ws", "wss"));  // no host
}
