#pragma once
// The URL of an upstream (a provider's WebSocket, a broker's REST API) split for connecting:
// whether it is TLS, host, port (the scheme's default when absent) and request target. Pure.

#include <optional>
#include <string>
#include <string_view>

namespace tickstream::ingest {

struct source_url {
  bool tls = false;
  std::string host, port, target;
};

// url with scheme plain_scheme ("ws", "http") or tls_scheme ("wss", "https"); nullopt for any
// other scheme or an empty host.
std::optional<source_url> parse_source_url(std::string_view url, std::string_view plain_scheme,
                                           std::string_view tls_scheme);

}  // namespace tickstream::ingest
