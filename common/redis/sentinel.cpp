#include "common/redis/sentinel.hpp"

#include <charconv>
#include <vector>

namespace tickstream::common {

namespace {

std::optional<int> parse_port(std::string_view s) {
  int port = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), port);
  if (s.empty() || r.ec != std::errc{} || r.ptr != s.data() + s.size() || port < 1 || port > 65535) return {};
  return port;
}

bool is_text(const redis_reply& r) {
  return r.type == redis_reply::kind::string || r.type == redis_reply::kind::status;
}

}  // namespace

result<std::optional<redis_endpoint>> parse_master_address(const redis_reply& reply) {
  if (reply.type == redis_reply::kind::nil) return std::optional<redis_endpoint>{};
  if (reply.type == redis_reply::kind::error) return error{"bad_sentinel_reply", reply.str};
  if (reply.type != redis_reply::kind::array || reply.elements.size() != 2 || !is_text(reply.elements[0]) ||
      !is_text(reply.elements[1]) || reply.elements[0].str.empty()) {
    return error{"bad_sentinel_reply", "not a [host, port] pair"};
  }
  const auto port = parse_port(reply.elements[1].str);
  if (!port) return error{"bad_sentinel_reply", "port '" + reply.elements[1].str + "' is not a port"};
  return std::optional<redis_endpoint>(redis_endpoint{reply.elements[0].str, *port});
}

result<std::string> parse_role(const redis_reply& reply) {
  if (reply.type == redis_reply::kind::error) return error{"bad_role_reply", reply.str};
  if (reply.type != redis_reply::kind::array || reply.elements.empty() || !is_text(reply.elements[0])) {
    return error{"bad_role_reply", "not a ROLE reply"};
  }
  return reply.elements[0].str;
}

std::optional<redis_endpoint> parse_switch_master(std::string_view payload, std::string_view master) {
  std::vector<std::string_view> words;
  while (!payload.empty()) {
    const auto space = payload.find(' ');
    words.push_back(payload.substr(0, space));
    if (space == std::string_view::npos) break;
    payload.remove_prefix(space + 1);
  }
  if (words.size() != 5 || words[0] != master || words[3].empty()) return std::nullopt;
  const auto port = parse_port(words[4]);
  if (!port) return std::nullopt;
  return redis_endpoint{std::string(words[3]), *port};
}

}  // namespace tickstream::common
