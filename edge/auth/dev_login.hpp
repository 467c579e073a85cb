#pragma once
// The development sign-in (--dev-login, off by default): POST /api/dev/login {"user":"demo"}
// creates a session for any user named, with no password, and sets the session cookie. It lets a
// local tier run with authentication on; it must never be enabled where real users connect.
// Pure helpers here; the Redis write is the HTTP session's.

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace tickstream::edge {

// The user named in a sign-in body: a JSON object {"user":"<id>"} with a valid user id.
common::result<std::string> parse_dev_login(std::string_view body);
// A fresh opaque session id: 32 hex characters from OpenSSL's random generator.
std::string new_session_id();
// The Set-Cookie value for a session: HttpOnly, SameSite=Strict, for the whole site.
std::string session_cookie_header(std::string_view cookie_name, std::string_view session_id, std::chrono::seconds ttl);

}  // namespace tickstream::edge
