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

// "host[:port]" or "[v6]:port" into e (port default_port when not given).
std::optional<std::string> parse_endpoint(std::string_view in, int default_port, redis_endpoint& e) {
  std::string_view h = in;
  std::string_view p;
  bool has_port = false;
  if (h.starts_with('[')) {
    const auto close = h.find(']');
    if (close == std::string_view::npos) return "must close an IPv6 address with ]";
    const auto rest = h.substr(close + 1);
    h = h.substr(1, close - 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return "must give the port after ':'";
      p = rest.substr(1);
      has_port = true;
    }
  } else if (const auto colon = h.rfind(':'); colon != std::string_view::npos) {
    p = h.substr(colon + 1);
    h = h.substr(0, colon);
    has_port = true;
  }
  int port = default_port;
  if (has_port) {
    const auto r = std::from_chars(p.data(), p.data() + p.size(), port);
    if (p.empty() || r.ec != std::errc{} || r.ptr != p.data() + p.size() || port < 1 || port > 65535) {
      return "must give a port from 1 to 65535";
    }
  }
  if (h.empty()) return "must name a host";
  e.host = std::string(h);
  e.port = port;
  return std::nullopt;
}

// The user-info of a URL, "[[user]:password@]" before its host(s).
struct user_info {
  bool given = false;
  std::string user;
  std::string password;
};

// Splits "[[user]:password@]rest" into info and rest (percent-decoded; a lone user-info is the
// password, as redis-cli -u reads redis://secret@host).
std::optional<std::string> take_user_info(std::string_view& url, user_info& info) {
  const auto at = url.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  const auto text = url.substr(0, at);
  url = url.substr(at + 1);
  info.given = true;
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return percent_decode(text, info.password);
  if (auto e = percent_decode(text.substr(0, colon), info.user)) return e;
  return percent_decode(text.substr(colon + 1), info.password);
}

// A URL's user-info wins; without one, the user and password set by their own flags (a secret in
// the environment) stay.
void apply_user_info(user_info& info, std::string& password, redis_access& access) {
  if (!info.given) return;
  password = std::move(info.password);
  access.user = std::move(info.user);
}

// redis+sentinel://[[user]:password@]s1[:p1],s2[:p2]/<master>[?sentinel_user=..&sentinel_password=..]
std::optional<std::string> parse_sentinel_url(std::string_view url, bool tls, std::string& password,
                                              redis_access& access) {
  std::string_view query;
  if (const auto q = url.find('?'); q != std::string_view::npos) {
    query = url.substr(q + 1);
    url = url.substr(0, q);
  }
  const auto slash = url.find('/');
  if (slash == std::string_view::npos || slash + 1 == url.size()) {
    return "must name the master after the sentinels: redis+sentinel://host:26379,host2:26379/<master>";
  }
  std::string master;
  if (auto e = percent_decode(url.substr(slash + 1), master)) return e;
  if (master.find('/') != std::string::npos) return "must name one master (no '/' after its name)";
  url = url.substr(0, slash);
  user_info info;
  if (auto e = take_user_info(url, info)) return e;
  std::vector<redis_endpoint> sentinels;
  while (true) {
    const auto comma = url.find(',');
    redis_endpoint e;
    if (auto why = parse_endpoint(url.substr(0, comma), 26379, e)) return "sentinel " + *why;
    sentinels.push_back(std::move(e));
    if (comma == std::string_view::npos) break;
    url.remove_prefix(comma + 1);
  }
  std::string sentinel_user;
  std::string sentinel_password;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto eq = pair.find('=');
    const auto key = pair.substr(0, eq);
    const auto value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    std::string* target = nullptr;
    if (key == "sentinel_user") {
      target = &sentinel_user;
    } else if (key == "sentinel_password") {
      target = &sentinel_password;
    } else {
      return "must use only the parameters sentinel_user and sentinel_password, not '" + std::string(key) + "'";
    }
    if (auto e = percent_decode(value, *target)) return e;
  }
  apply_user_info(info, password, access);
  access.tls = tls;
  access.sentinels = std::move(sentinels);
  access.sentinel_master = std::move(master);
  access.cluster_nodes.clear();
  // Not given here: what --redis-sentinel-password (a secret kept out of the URL) set stays.
  if (!sentinel_user.empty()) access.sentinel_user = std::move(sentinel_user);
  if (!sentinel_password.empty()) access.sentinel_password = std::move(sentinel_password);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> parse_redis_url(std::string_view url, std::string& host, std::int64_t& port,
                                           std::string& password, redis_access& access) {
  if (url.starts_with("redis+cluster://") || url.starts_with("rediss+cluster://")) {
    return parse_redis_cluster_url(url, host, port, password, access);
  }
  bool tls = false;
  if (url.starts_with("redis+sentinel://")) return parse_sentinel_url(url.substr(17), false, password, access);
  if (url.starts_with("rediss+sentinel://")) return parse_sentinel_url(url.substr(18), true, password, access);
  if (url.starts_with("redis://")) {
    url.remove_prefix(8);
  } else if (url.starts_with("rediss://")) {
    url.remove_prefix(9);
    tls = true;
  } else {
    return "must start with redis://, rediss:// (TLS), redis+sentinel:// or rediss+sentinel://";
  }
  std::string_view path;
  if (const auto slash = url.find('/'); slash != std::string_view::npos) {
    path = url.substr(slash + 1);
    url = url.substr(0, slash);
  }
  if (!path.empty() && path != "0") return "must name database 0 or none (the tier uses database 0)";
  user_info info;
  if (auto e = take_user_info(url, info)) return e;
  redis_endpoint endpoint;
  if (auto why = parse_endpoint(url, 6379, endpoint)) return why;
  host = std::move(endpoint.host);
  port = endpoint.port;
  apply_user_info(info, password, access);
  access.tls = tls;
  access.sentinels.clear();
  access.sentinel_master.clear();
  access.cluster_nodes.clear();
  return std::nullopt;
}

std::optional<std::string> parse_redis_cluster_url(std::string_view url, std::string& host, std::int64_t& port,
                                                   std::string& password, redis_access& access) {
  const bool tls = url.starts_with("rediss+cluster://");
  if (!tls && !url.starts_with("redis+cluster://")) {
    return "must start with redis+cluster:// or rediss+cluster:// (TLS)";
  }
  url.remove_prefix(tls ? 17 : 16);
  // Each node is read as the one-node URL it would be: "<scheme>://<user-info>@<node><path>".
  std::string_view path;
  if (const auto slash = url.find('/'); slash != std::string_view::npos) {
    path = url.substr(slash);
    url = url.substr(0, slash);
  }
  std::string_view info;
  if (const auto at = url.rfind('@'); at != std::string_view::npos) {
    info = url.substr(0, at + 1);
    url = url.substr(at + 1);
  }
  std::vector<redis_endpoint> nodes;
  redis_access one = access;
  std::string pass;
  while (true) {
    const auto comma = url.find(',');
    const auto node = url.substr(0, comma);
    if (node.empty()) return "must list the nodes as host:port,host:port";
    std::string h;
    std::int64_t p = 0;
    std::string single(tls ? "rediss://" : "redis://");
    single += info;
    single += node;
    single += path;
    if (auto why = parse_redis_url(single, h, p, pass, one)) return why;
    nodes.push_back({std::move(h), static_cast<int>(p)});
    if (comma == std::string_view::npos) break;
    url.remove_prefix(comma + 1);
  }
  host = nodes.front().host;
  port = nodes.front().port;
  // Without user-info, the user and password set by their own flags (a secret in the environment)
  // stay, as with a Sentinel URL.
  if (!info.empty()) {
    password = std::move(pass);
    access.user = std::move(one.user);
  }
  access.tls = tls;
  access.cluster_nodes = std::move(nodes);
  access.sentinels.clear();
  access.sentinel_master.clear();
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

namespace {

// A sentinel_password=... parameter's value as "***".
std::string redact_sentinel_password(std::string_view url) {
  constexpr std::string_view key = "sentinel_password=";
  const auto q = url.find('?');
  const auto at = q == std::string_view::npos ? q : url.find(key, q);
  if (at == std::string_view::npos) return std::string(url);
  const auto end = url.find('&', at);
  std::string out(url.substr(0, at + key.size()));
  out += "***";
  if (end != std::string_view::npos) out += url.substr(end);
  return out;
}

}  // namespace

std::string redact_redis_url(std::string_view url) {
  const auto scheme = url.find("://");
  const auto at = url.rfind('@');
  if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme) {
    return redact_sentinel_password(url);
  }
  const auto info_start = scheme + 3;
  const auto colon = url.find(':', info_start);
  std::string out(url.substr(0, (colon != std::string_view::npos && colon < at) ? colon + 1 : info_start));
  out += "***";
  out += url.substr(at);
  return redact_sentinel_password(out);
}

}  // namespace tickstream::common
