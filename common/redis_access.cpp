#include "common/redis_access.hpp"

#include <charconv>
#include <fstream>

namespace tickstream::common {

namespace {

std::optional<std::string> percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    unsigned v = 0;
    if (i + 2 >= in.size()) return "must percent-encode as %XX";
    const auto r = std::from_chars(in.data() + i + 1, in.data() + i + 3, v, 16);
    if (r.ec != std::errc{} || r.ptr != in.data() + i + 3) return "must percent-encode as %XX";
    out += static_cast<char>(v);
    i += 2;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> parse_redis_url(std::string_view url, std::string& host, std::int64_t& port,
                                           std::string& password, redis_access& access) {
  bool tls = false;
  if (url.starts_with("redis://")) {
    url.remove_prefix(8);
  } else if (url.starts_with("rediss://")) {
    url.remove_prefix(9);
    tls = true;
  } else {
    return "must start with redis:// or rediss:// (TLS)";
  }
  std::string_view path;
  if (const auto slash = url.find('/'); slash != std::string_view::npos) {
    path = url.substr(slash + 1);
    url = url.substr(0, slash);
  }
  if (!path.empty() && path != "0") return "must name database 0 or none (the tier uses database 0)";
  std::string user;
  std::string pass;
  if (const auto at = url.rfind('@'); at != std::string_view::npos) {
    const auto info = url.substr(0, at);
    url = url.substr(at + 1);
    const auto colon = info.find(':');
    if (auto e = percent_decode(info.substr(0, colon), user)) return e;
    if (colon != std::string_view::npos) {
      if (auto e = percent_decode(info.substr(colon + 1), pass)) return e;
    }
    if (colon == std::string_view::npos) {
      // redis://secret@host: a lone user-info is the password (as redis-cli -u reads it).
      pass = std::move(user);
      user.clear();
    }
  }
  std::string_view h = url;
  std::int64_t p = 6379;
  if (h.starts_with('[')) {  // [IPv6]:port
    const auto close = h.find(']');
    if (close == std::string_view::npos) return "must close an IPv6 address with ]";
    auto rest = h.substr(close + 1);
    h = h.substr(1, close - 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return "must give the port after ':'";
      url = rest.substr(1);
    } else {
      url = {};
    }
  } else if (const auto colon = h.rfind(':'); colon != std::string_view::npos) {
    url = h.substr(colon + 1);
    h = h.substr(0, colon);
  } else {
    url = {};
  }
  if (!url.empty()) {
    const auto r = std::from_chars(url.data(), url.data() + url.size(), p);
    if (r.ec != std::errc{} || r.ptr != url.data() + url.size() || p < 1 || p > 65535) {
      return "must give a port from 1 to 65535";
    }
  }
  if (h.empty()) return "must name a host";
  host = std::string(h);
  port = p;
  password = std::move(pass);
  access.user = std::move(user);
  access.tls = tls;
  return std::nullopt;
}

std::optional<error> check_redis_access_files(const redis_access& access) {
  const auto check = [](const std::string& path, const char* flag) -> std::optional<error> {
    if (path.empty() || std::ifstream(path).good()) return std::nullopt;
    return error{flag, "cannot read " + path};
  };
  if (auto e = check(access.tls_ca_file, "redis-tls-ca-file")) return e;
  if (auto e = check(access.tls_cert_file, "redis-tls-cert-file")) return e;
  if (auto e = check(access.tls_key_file, "redis-tls-key-file")) return e;
  if (!access.tls_key_file.empty() && access.tls_cert_file.empty()) {
    return error{"redis-tls-key-file", "needs --redis-tls-cert-file"};
  }
  return std::nullopt;
}

std::string redact_redis_url(std::string_view url) {
  const auto scheme = url.find("://");
  const auto at = url.rfind('@');
  if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme) return std::string(url);
  const auto info_start = scheme + 3;
  const auto colon = url.find(':', info_start);
  std::string out(url.substr(0, (colon != std::string_view::npos && colon < at) ? colon + 1 : info_start));
  out += "***";
  out += url.substr(at);
  return out;
}

}  // namespace tickstream::common
