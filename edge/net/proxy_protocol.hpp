#pragma once
// The PROXY protocol (haproxy's, versions 1 and 2): a load balancer's header in front of a
// connection saying which client it carries, so per-address limits and logs see the client and
// not the balancer. Pure: bytes in, the client's address (or why not) out.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace tickstream::edge {

struct proxy_header {
  std::size_t size = 0;  // bytes the header took; what follows is the client's stream
  // The client's address as text, or empty for a LOCAL connection (the balancer's own health
  // check) or an UNKNOWN/unsupported family: then the TCP peer stands.
  std::string client_address;
};

// nullopt: more bytes are needed. Errors ("bad_proxy_header") say what is wrong. A v1 header is
// at most 107 bytes; a v2 header 16 + its length (at most 536 bytes accepted).
std::optional<common::result<proxy_header>> parse_proxy_header(std::string_view data);

// The client's address from X-Forwarded-For, when the request came from a trusted proxy: the
// rightmost entry that is not itself a trusted proxy (entries to its left can be forged by the
// client). trusted: the proxies' addresses or CIDR ranges ("10.0.0.0/8", "127.0.0.1").
std::string forwarded_client(std::string_view peer, std::string_view x_forwarded_for,
                             const std::vector<std::string>& trusted);
// Whether address is one of the trusted proxies (an exact address or a CIDR range, v4 or v6).
bool address_in(std::string_view address, const std::vector<std::string>& ranges);

}  // namespace tickstream::edge
