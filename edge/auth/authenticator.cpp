#include "edge/auth/authenticator.hpp"

#include <algorithm>
#include <charconv>

#include "common/event_codec.hpp"

namespace tickstream::edge {
namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::string_view> query_param(std::string_view target, std::string_view name) noexcept {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  auto query = target.substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

bool valid_session_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

common::result<auth_step> from_jwt(const auth_config& config, std::string_view token, std::int64_t now_s) {
  auto id = config.jwt->verify(token, now_s);
  if (!id) return std::move(id).err();
  return auth_step{identity{id->user_id, id->roles, id->expires_at_s, id->session_id, id->entitled}, {}};
}

}  // namespace

bool identity::has_role(std::string_view role) const noexcept {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name) noexcept {
  while (!header.empty()) {
    const auto semi = header.find(';');
    const auto pair = trim(header.substr(0, semi));
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && trim(pair.substr(0, eq)) == name) return trim(pair.substr(eq + 1));
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return std::nullopt;
}

bool origin_allowed(const auth_config& config, std::string_view origin, std::string_view sec_fetch_site) noexcept {
  // No Origin at all: only a browser's same-origin request, as it says itself (a cross-site page
  // cannot make the browser claim same-origin; a non-browser client can, but it could also send
  // any Origin: cookie checks guard browsers against other pages, not clients against lying).
  if (origin.empty()) return sec_fetch_site == "same-origin";
  return std::find(config.allowed_origins.begin(), config.allowed_origins.end(), origin) !=
         config.allowed_origins.end();
}

common::result<auth_step> authenticate(const auth_config& config, const auth_request& req, std::int64_t now_s) {
  if (!config.required()) return auth_step{identity{}, {}};  // an open (development) edge
  const auto origin_ok = [&] { return origin_allowed(config, req.origin, req.sec_fetch_site); };
  // 1. Authorization: Bearer <JWT>
  if (config.jwt && !req.authorization.empty()) {
    // The scheme is case-insensitive (RFC 7235 §2.1): "Bearer", "bearer", "BEARER".
    constexpr std::string_view bearer = "bearer ";
    const auto scheme = req.authorization.substr(0, bearer.size());
    const bool is_bearer =
        scheme.size() == bearer.size() && std::equal(scheme.begin(), scheme.end(), bearer.begin(), [](char x, char y) {
          return (x >= 'A' && x <= 'Z' ? static_cast<char>(x + 32) : x) == y;
        });
    if (!is_bearer) return common::error{"malformed_credentials", "Authorization must be 'Bearer <token>'"};
    return from_jwt(config, trim(req.authorization.substr(bearer.size())), now_s);
  }
  // 2. A JWT in a cookie, or 3. a session cookie: either needs an allowed Origin.
  std::optional<std::string_view> jwt_cookie, session;
  if (config.jwt && !config.jwt_cookie.empty()) jwt_cookie = cookie_value(req.cookie, config.jwt_cookie);
  if (!config.session_cookie.empty()) session = cookie_value(req.cookie, config.session_cookie);
  if (jwt_cookie || session) {
    if (!origin_ok()) {
      return common::error{"forbidden_origin", "cookie credentials are accepted only from allowed origins"};
    }
    if (jwt_cookie) return from_jwt(config, *jwt_cookie, now_s);
    if (!valid_session_id(*session)) return common::error{"unknown_session", "no such session"};
    return auth_step{std::nullopt, std::string(*session)};
  }
  // 4. ?token=<JWT>, only when enabled.
  if (config.jwt && config.allow_query_token) {
    if (const auto token = query_param(req.target, "token")) return from_jwt(config, *token, now_s);
  }
  return common::error{"missing_credentials", "credentials are required (see docs/PROTOCOL.md, Connecting)"};
}

common::result<identity> identity_from_session(const std::optional<std::string>& user,
                                               const std::optional<std::string>& roles,
                                               const std::optional<std::string>& expires, std::int64_t now_s) {
  if (!user || !common::is_valid_user_id(*user)) return common::error{"unknown_session", "no such session"};
  identity id;
  id.user_id = *user;
  if (expires) {
    std::int64_t at = 0;
    const auto [end, ec] = std::from_chars(expires->data(), expires->data() + expires->size(), at);
    if (ec != std::errc{} || end != expires->data() + expires->size()) {
      return common::error{"unknown_session", "the session record is malformed"};
    }
    if (at <= now_s) return common::error{"expired_session", "the session expired"};
    id.expires_at_s = at;
  }
  if (roles) {
    std::string_view rest = *roles;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const auto role = trim(rest.substr(0, comma));
      if (!role.empty()) id.roles.emplace_back(role);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return id;
}

}  // namespace tickstream::edge
