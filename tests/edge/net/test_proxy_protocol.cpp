#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <vector>

#include "edge/net/proxy_protocol.hpp"

using namespace tickstream::edge;

namespace {

// A v2 header for a TCP/IPv4 connection from src to dst (haproxy's send-proxy-v2).
std::string v2_ipv4(std::array<unsigned char, 4> src, std::array<unsigned char, 4> dst) {
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h += static_cast<char>(0x21);  // version 2, PROXY
  h += static_cast<char>(0x11);  // TCP over IPv4
  h += std::string("\x00\x0c", 2);
  for (auto b : src) h += static_cast<char>(b);
  for (auto b : dst) h += static_cast<char>(b);
  h += std::string("\xd4\x31\x1f\x90", 4);  // ports 54321 -> 8080
  return h;
}

}  // namespace

TEST_CASE("PROXY v2 and v1 headers name the client, however the bytes arrive", "[proxy]") {
  const auto v2 = v2_ipv4({203, 0, 113, 7}, {10, 0, 0, 2}) + "GET /ws HTTP/1.1\r\n";
  for (std::size_t cut = 0; cut < 28; ++cut) {
    CHECK_FALSE(parse_proxy_header(std::string_view(v2).substr(0, cut)));  // not enough yet
  }
  const auto h = parse_proxy_header(v2);
  REQUIRE(h);
  REQUIRE(*h);
  CHECK(h->value().client_address == "203.0.113.7");
  CHECK(h->value().size == 28);

  const std::string v1 = "PROXY TCP6 2001:db8::1 2001:db8::2 54321 8080\r\nGET /";
  const auto h1 = parse_proxy_header(v1);
  REQUIRE((h1 && *h1));
  CHECK(h1->value().client_address == "2001:db8::1");
  CHECK(v1.substr(h1->value().size) == "GET /");
  const auto unknown = parse_proxy_header(std::string_view("PROXY UNKNOWN\r\n"));
  REQUIRE((unknown && *unknown));
  CHECK(unknown->value().client_address.empty());  // the TCP peer stands

  // LOCAL (the balancer's own health check): no client address.
  auto local = v2_ipv4({1, 2, 3, 4}, {5, 6, 7, 8});
  local[12] = static_cast<char>(0x20);
  const auto hl = parse_proxy_header(local);
  REQUIRE((hl && *hl));
  CHECK(hl->value().client_address.empty());
}

TEST_CASE("a connection that does not start with a valid PROXY header is refused", "[proxy]") {
  for (const std::string& bad :
       std::vector<std::string>{"GET /ws HTTP/1.1\r\n", "PROXY TCP4 not.an.address 1.2.3.4 1 2\r\n",
                                "PROXY TCP4 1.2.3.4\r\n", std::string(120, 'P')}) {
    const auto h = parse_proxy_header(bad);
    REQUIRE(h);
    CHECK_FALSE(*h);
  }
  auto v3 = v2_ipv4({1, 2, 3, 4}, {5, 6, 7, 8});
  v3[12] = static_cast<char>(0x31);
  CHECK_FALSE(*parse_proxy_header(v3));
  auto huge = v2_ipv4({1, 2, 3, 4}, {5, 6, 7, 8});
  huge[14] = static_cast<char>(0x10);  // claims 4 KiB of addresses
  CHECK_FALSE(*parse_proxy_header(huge));
}

TEST_CASE("X-Forwarded-For is believed only from trusted proxies, right to left", "[proxy]") {
  const std::vector<std::string> trusted{"10.0.0.0/8", "127.0.0.1", "fd00::/8"};
  CHECK(address_in("10.20.30.40", trusted));
  CHECK_FALSE(address_in("11.0.0.1", trusted));
  CHECK(address_in("fd12::1", trusted));
  CHECK_FALSE(address_in("not an address", trusted));
  // From a trusted proxy: the rightmost entry that is not a proxy of ours.
  CHECK(forwarded_client("10.0.0.5", "198.51.100.9", trusted) == "198.51.100.9");
  CHECK(forwarded_client("10.0.0.5", "6.6.6.6, 198.51.100.9, 10.1.1.1", trusted) == "198.51.100.9");
  // From anyone else, the header is the client's own claim: ignored.
  CHECK(forwarded_client("198.51.100.9", "1.2.3.4", trusted) == "198.51.100.9");
  // A malformed hop: nothing past the proxy is trusted.
  CHECK(forwarded_client("10.0.0.5", "198.51.100.9, garbage", trusted) == "10.0.0.5");
  CHECK(forwarded_client("10.0.0.5", "", trusted) == "10.0.0.5");
  CHECK(forwarded_client("10.0.0.5", "1.2.3.4", {}) == "10.0.0.5");
}

TEST_CASE("a v1 line longer than 107 bytes is refused whole, as it is when split", "[proxy]") {
  // Found by fuzzing: accepted whole, refused when its first 107 bytes arrived alone.
  const std::string line = "PROXY UNKNOWN " + std::string(104, 'x') + "\r\n";
  for (const std::size_t n : {std::size_t{107}, line.size()}) {
    const auto h = parse_proxy_header(std::string_view(line).substr(0, n));
    REQUIRE(h);
    CHECK_FALSE(*h);
  }
  const std::string longest = "PROXY TCP4 203.0.113.7 10.0.0.2 54321 " + std::string(107 - 40, '8') + "\r\n";
  REQUIRE(longest.size() == 107);
  const auto ok = parse_proxy_header(longest);
  REQUIRE((ok && *ok));
  CHECK(ok->value().client_address == "203.0.113.7");
}
