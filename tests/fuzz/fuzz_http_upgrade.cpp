// The edge's HTTP upgrade path on arbitrary bytes, as http_session runs it: an optional PROXY
// protocol header, Beast's request parser with the edge's limits (8 KiB of headers, 4 KiB of
// body), then X-Forwarded-For, the accept key and authentication (edge::authenticate with an
// HS256 verifier, JWT and session cookies, the opt-in ?token=).
//
// Input: byte 0 holds flags (bit 0: a PROXY header comes first; bit 1: ?token= allowed; bit 2:
// in-band auth; bit 3: the peer is a trusted proxy); the rest is what the client sent. Checked:
//   - a PROXY header never claims more bytes than it was given, and names a canonical address;
//   - Beast's limits hold (a parsed request has at most 4 KiB of body);
//   - an accepted Sec-WebSocket-Key gets the key Beast's own handshake would compute;
//   - X-Forwarded-For yields the peer or an address from the header, never a trusted hop
//     unless it is the leftmost one;
//   - authentication yields a valid user id, or a well-formed session id taken from the cookie,
//     or an error with one of the documented codes; a cookie value lies inside its header.
#include <arpa/inet.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/detail/hybi13.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/event_codec.hpp"
#include "edge/auth/authenticator.hpp"
#include "edge/net/proxy_protocol.hpp"
#include "edge/protocol/ws_codec.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace tickstream;
namespace http = boost::beast::http;

namespace {

// The HS256 secret the seed tokens are signed with (tests/fuzz/corpus/http_upgrade).
constexpr std::string_view secret = "fuzzing-secret-at-least-32-bytes-long!!";
constexpr std::int64_t now_s = 1'700'000'000;  // 2023-11-14: the seed tokens expire in 2100
const std::vector<std::string> trusted = {"127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"};

const std::shared_ptr<const edge::jwt_verifier>& verifier() {
  static const auto v = [] {
    edge::jwt_config c;
    c.accepted = {edge::jwt_alg::hs256};
    c.hs_secret = std::string(secret);
    auto made = edge::jwt_verifier::make(c);
    FUZZ_CHECK(made.ok());
    return std::move(made).value();
  }();
  return v;
}

bool canonical_address(const std::string& a) {
  unsigned char raw[16];
  char back[INET6_ADDRSTRLEN] = {};
  for (const int family : {AF_INET, AF_INET6}) {
    if (inet_pton(family, a.c_str(), raw) == 1) {
      return inet_ntop(family, raw, back, sizeof back) != nullptr && a == back;
    }
  }
  return false;
}

bool is_address(std::string_view a) {
  unsigned char raw[16];
  const std::string s(a);
  return inet_pton(AF_INET, s.c_str(), raw) == 1 || inet_pton(AF_INET6, s.c_str(), raw) == 1;
}

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void check_forwarded(std::string_view peer, std::string_view xff) {
  const auto got = edge::forwarded_client(peer, xff, trusted);
  if (got == peer) return;
  FUZZ_CHECK(is_address(got));
  FUZZ_CHECK(xff.find(got) != std::string_view::npos);
  // A trusted hop is named only when nothing left of it is an address: the leftmost entry.
  if (edge::address_in(got, trusted)) {
    const auto first = xff.substr(0, xff.find(','));
    FUZZ_CHECK(first.find(got) != std::string_view::npos);
  }
}

void check_auth(const http::request<http::string_body>& req, unsigned flags) {
  edge::auth_config config;
  config.jwt = verifier();
  config.jwt_cookie = "ts_jwt";
  config.session_cookie = "ts_session";
  config.allow_query_token = (flags & 2) != 0;
  config.in_band = (flags & 4) != 0;
  config.allowed_origins = {"https://app.example.com", "http://localhost:5173"};
  const edge::auth_request ar{req[http::field::authorization], req[http::field::cookie], req[http::field::origin],
                              req.target(), req["Sec-Fetch-Site"]};
  const auto step = edge::authenticate(config, ar, now_s);
  if (step) {
    if (step->who) {
      FUZZ_CHECK(step->session_id.empty());
      FUZZ_CHECK(common::is_valid_user_id(step->who->user_id));
      FUZZ_CHECK(step->who->expires_at_s && *step->who->expires_at_s > now_s);
    } else {
      const auto cookie = edge::cookie_value(ar.cookie, config.session_cookie);
      FUZZ_CHECK(cookie && *cookie == step->session_id);
      FUZZ_CHECK(!step->session_id.empty() && step->session_id.size() <= 128);
      FUZZ_CHECK(edge::origin_allowed(config, ar.origin, ar.sec_fetch_site));
    }
  } else {
    static const std::array<std::string_view, 12> codes = {
        "missing_credentials", "malformed_credentials", "forbidden_origin", "unknown_session",
        "malformed_token",     "alg_not_allowed",       "bad_signature",    "expired",
        "missing_expiry",      "not_yet_valid",         "missing_subject",  "wrong_issuer"};
    FUZZ_CHECK(std::find(codes.begin(), codes.end(), step.err().code) != codes.end());
    if (step.err().code == "forbidden_origin") FUZZ_CHECK(!edge::origin_allowed(config, ar.origin, ar.sec_fetch_site));
  }
  for (const auto* name : {"ts_jwt", "ts_session", "other"}) {
    if (const auto v = edge::cookie_value(ar.cookie, name)) FUZZ_CHECK(inside(*v, ar.cookie));
  }
  // The record a session cookie leads to (HMGET user roles expires), as the request gives them.
  const auto field = [&](const char* name) -> std::optional<std::string> {
    const auto it = req.find(name);
    if (it == req.end()) return std::nullopt;
    return std::string(it->value());
  };
  const auto session =
      edge::identity_from_session(field("X-Session-User"), field("X-Session-Roles"), field("X-Session-Expires"), now_s);
  if (session) {
    FUZZ_CHECK(common::is_valid_user_id(session->user_id));
    if (session->expires_at_s) FUZZ_CHECK(*session->expires_at_s > now_s);
    for (const auto& r : session->roles) FUZZ_CHECK(!r.empty() && r.find(',') == std::string::npos);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const unsigned flags = data[0];
  std::string_view in = fuzz::as_view(data + 1, size - 1);
  std::string peer = (flags & 8) != 0 ? "10.1.2.3" : "203.0.113.9";

  if ((flags & 1) != 0) {
    const auto header = edge::parse_proxy_header(in);
    if (!header || !*header) return 0;  // more needed, or refused: the connection goes no further
    const auto& h = header->value();
    FUZZ_CHECK(h.size > 0 && h.size <= in.size());
    if (!h.client_address.empty()) {
      FUZZ_CHECK(canonical_address(h.client_address));
      peer = h.client_address;
    }
    in.remove_prefix(h.size);
  }

  http::request_parser<http::string_body> parser;
  parser.header_limit(8 * 1024);
  parser.body_limit(4 * 1024);
  parser.eager(true);
  boost::system::error_code ec;
  std::size_t used = 0;
  // Everything the client sent is there at once, as after a last read: put() takes what it can
  // (the header, then the body) until the message is done; need_more means the stream ended
  // inside the message (Beast must then be given more bytes, never the same ones again).
  for (int i = 0; i < 64 && !parser.is_done(); ++i) {
    const auto n = parser.put(boost::asio::buffer(in.data() + used, in.size() - used), ec);
    FUZZ_CHECK(n <= in.size() - used);
    used += n;
    if (ec == http::error::need_more) {
      ec = {};
      break;
    }
    if (ec || n == 0) break;
  }
  if (!parser.is_done() && !ec && parser.got_some()) parser.put_eof(ec);  // the client stopped sending
  if (ec || !parser.is_done()) return 0;
  const auto& req = parser.get();
  FUZZ_CHECK(req.body().size() <= 4 * 1024);

  check_forwarded(peer, req["X-Forwarded-For"]);

  (void)boost::beast::websocket::is_upgrade(req);
  const auto key = req[http::field::sec_websocket_key];
  if (const auto accept = edge::websocket_accept_key(key)) {
    boost::beast::websocket::detail::sec_ws_accept_type beast_accept;
    boost::beast::websocket::detail::make_sec_ws_accept(beast_accept, key);
    FUZZ_CHECK(accept.value() == std::string_view(beast_accept.data(), beast_accept.size()));
  }
  check_auth(req, flags);
  return 0;
}
