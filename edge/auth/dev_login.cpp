#include "edge/auth/dev_login.hpp"

#include <openssl/rand.h>
#include <rapidjson/document.h>

#include "common/event_codec.hpp"
#include "common/json_reader.hpp"

namespace tickstream::edge {

common::result<std::string> parse_dev_login(std::string_view body) {
  rapidjson::Document doc;
  if (auto err = common::parse_json(doc, body, false)) return std::move(*err);
  if (!doc.IsObject()) return common::error{"bad_request", "the body must be a JSON object {\"user\":\"<id>\"}"};
  common::json_reader r(doc, "bad_request");
  const auto user = r.string("user", true, 64);
  if (!user) return *r.failure();
  if (!common::is_valid_user_id(*user)) {
    return common::error{"bad_request", "field 'user': 1-64 characters from A-Z a-z 0-9 _ . : -"};
  }
  return std::string(*user);
}

std::string new_session_id() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return {};  // the caller answers 503
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (const auto b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

std::string session_cookie_header(std::string_view cookie_name, std::string_view session_id, std::chrono::seconds ttl) {
  std::string out(cookie_name);
  out.append("=").append(session_id).append("; Path=/; HttpOnly; SameSite=Strict; Max-Age=");
  out.append(std::to_string(ttl.count()));
  return out;
}

}  // namespace tickstream::edge
