// The PROXY protocol header parser (edge::parse_proxy_header, v1 and v2) and the address helpers
// behind X-Forwarded-For (edge::address_in, edge::forwarded_client) on arbitrary bytes. Checked:
//   - an accepted header takes at most the bytes given (v2: 16 + its length; v1: one line) and
//     names a canonical address or none;
//   - the answer depends only on the header's own bytes: the header alone parses the same, and
//     each shorter prefix of it asks for more bytes (neither refused nor accepted), so a header
//     split across reads is read as it is whole;
//   - address_in agrees with itself on a range written as /32 or /128 and as a plain address.
#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edge/net/proxy_protocol.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace tickstream;

namespace {

bool canonical_address(const std::string& a) {
  unsigned char raw[16];
  char back[INET6_ADDRSTRLEN] = {};
  for (const int family : {AF_INET, AF_INET6}) {
    if (inet_pton(family, a.c_str(), raw) == 1)
      return inet_ntop(family, raw, back, sizeof back) != nullptr && a == back;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = fuzz::as_view(data, size);
  const auto parsed = edge::parse_proxy_header(in);
  if (parsed && *parsed) {
    const auto& h = parsed->value();
    FUZZ_CHECK(h.size > 0 && h.size <= in.size());
    FUZZ_CHECK(h.size <= 16 + 520);
    if (!h.client_address.empty()) FUZZ_CHECK(canonical_address(h.client_address));
    const auto alone = edge::parse_proxy_header(in.substr(0, h.size));
    FUZZ_CHECK(alone && *alone && alone->value().size == h.size && alone->value().client_address == h.client_address);
    for (std::size_t n = 0; n < h.size; n += 1 + n / 16) {
      FUZZ_CHECK(!edge::parse_proxy_header(in.substr(0, n)));  // more bytes needed
    }
  }

  // The input as addresses and ranges: "address|range|x-forwarded-for".
  const auto bar1 = in.find('|');
  const auto bar2 = bar1 == std::string_view::npos ? bar1 : in.find('|', bar1 + 1);
  if (bar2 == std::string_view::npos) return 0;
  const std::string address(in.substr(0, bar1));
  const std::string range(in.substr(bar1 + 1, bar2 - bar1 - 1));
  const auto xff = in.substr(bar2 + 1);
  const bool in_range = edge::address_in(address, {range});
  if (range.find('/') == std::string::npos && canonical_address(range)) {
    const bool v4 = range.find(':') == std::string::npos;
    FUZZ_CHECK(in_range == edge::address_in(address, {range + (v4 ? "/32" : "/128")}));
  }
  if (in_range) FUZZ_CHECK(edge::address_in(address, {range, "192.0.2.1"}));
  const auto client = edge::forwarded_client(address, xff, {range});
  FUZZ_CHECK(client == address || xff.find(client) != std::string_view::npos);
  return 0;
}
