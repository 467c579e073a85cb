#include "ingest/sources/source_url.hpp"

namespace tickstream::ingest {

std::optional<source_url> parse_source_url(std::string_view url, std::string_view plain_scheme,
                                           std::string_view tls_scheme) {
  source_url u;
  const auto take_scheme = [&url](std::string_view scheme) {
    if (!url.starts_with(scheme) || !url.substr(scheme.size()).starts_with("://")) return false;
    url.remove_prefix(scheme.size() + 3);
    return true;
  };
  if (take_scheme(tls_scheme)) {
    u.tls = true;
  } else if (!take_scheme(plain_scheme)) {
    return std::nullopt;
  }
  // The authority ends at the path or, without one, at the query (wss://ws.finnhub.io?token=...).
  const auto end = url.find_first_of("/?");
  const auto authority = url.substr(0, end);
  u.target = end == std::string_view::npos ? "/"
             : url[end] == '?'             ? "/" + std::string(url.substr(end))
                                           : std::string(url.substr(end));
  const auto colon = authority.rfind(':');
  u.host = std::string(authority.substr(0, colon));
  u.port = colon == std::string_view::npos ? (u.tls ? "443" : "80") : std::string(authority.substr(colon + 1));
  if (u.host.empty()) return std::nullopt;
  return u;
}

}  // namespace tickstream::ingest
