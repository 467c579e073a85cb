#pragma once
// How a process reaches Redis beyond host, port and password: an ACL user name and TLS, or all of
// it given as one URL. Plain data and parsing; tickstream::redis turns it into redis_options.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace tickstream::common {

struct redis_endpoint {
  std::string host;
  int port = 0;
  bool operator==(const redis_endpoint&) const = default;
};

struct redis_access {
  std::string user;  // ACL user for AUTH (empty: the default user)
  bool tls = false;
  std::string tls_ca_file;      // PEM bundle the server's certificate must chain to (empty: the system's)
  std::string tls_cert_file;    // client certificate (PEM), when Redis requires one
  std::string tls_key_file;     // its key (empty: in tls_cert_file)
  std::string tls_server_name;  // name the certificate must carry, sent as SNI (empty: the host)
  // Sentinel (redis+sentinel://): when sentinels is not empty, the Redis is the master the
  // sentinels name sentinel_master (host and port are not used); sentinel_user and
  // sentinel_password are for AUTH on the sentinels themselves (the password empty: no AUTH).
  std::vector<redis_endpoint> sentinels;
  std::string sentinel_master;
  std::string sentinel_user;
  std::string sentinel_password;
  // Redis Cluster (redis+cluster://): the seed nodes its topology is read from; empty: one Redis.
  std::vector<redis_endpoint> cluster_nodes;
};

// redis://[[user]:password@]host[:port][/db] or rediss://... (TLS): sets host, port (default
// 6379), user, password (both percent-decoded) and tls. Returns why it cannot be used
// ("must be ...") or nullopt. Only database 0 is served by the tier: another db is refused.
// redis+sentinel://[[user]:password@]s1[:p1],s2[:p2]/<master>[?sentinel_user=..&sentinel_password=..]
// (rediss+sentinel:// with TLS to the sentinels and the master) sets tls and the sentinel fields
// instead of host and port (sentinel port default 26379), and user and password when it has
// user-info (else they stay as they were: --redis-password from a secret, say).
std::optional<std::string> parse_redis_url(std::string_view url, std::string& host, std::int64_t& port,
                                           std::string& password, redis_access& access);

// redis+cluster://[[user]:password@]host1[:port1],host2[:port2],...[/0] or rediss+cluster://...
// (TLS): sets access.cluster_nodes, host and port (the first node), user, password and tls.
std::optional<std::string> parse_redis_cluster_url(std::string_view url, std::string& host, std::int64_t& port,
                                                   std::string& password, redis_access& access);

// Whether the TLS files can be read, checked once at start-up (the binaries exit with it): an
// error whose code is the flag's name and whose message says why, or nullopt.
std::optional<error> check_redis_access_files(const redis_access& access);

// The URL with its passwords (user-info, sentinel_password) replaced by "***", for logs and --help.
std::string redact_redis_url(std::string_view url);

}  // namespace tickstream::common
