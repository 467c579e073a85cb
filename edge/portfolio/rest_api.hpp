#pragma once
// The REST fallback (docs/PROTOCOL.md, "REST"): the same state the stream shows, for clients that
// poll or reconcile. Pure: the HTTP session reads the state and sends the body.
//
//   GET /api/positions   {"type":"snapshot","seq":N,"positions":[...]}
//   GET /api/orders      {"type":"snapshot","seq":N,"orders":[...]}
//   GET /api/account     {"type":"snapshot","seq":N,"account":{...}|null}
//   GET /api/prices?symbols=A,B   {"type":"snapshot","prices":[...],"missing":[...]}

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "edge/portfolio/private_state_reader.hpp"

namespace tickstream::edge {

enum class rest_endpoint { positions, orders, account, prices };

// The endpoint of a path ("/api/positions"), or nullopt.
std::optional<rest_endpoint> rest_endpoint_of(std::string_view path);
std::string_view rest_endpoint_name(rest_endpoint e);
// Whether the endpoint serves a user's private state (and so needs an authenticated user).
inline bool is_private_endpoint(rest_endpoint e) { return e != rest_endpoint::prices; }

// What to read for a request. target: the request target, for ?symbols= (prices only). Errors:
// "bad_request" naming the parameter, "invalid_symbol".
common::result<state_request> rest_state_request(rest_endpoint e, const std::string& user_id, std::string_view target);

// The response body for the state read. invalid: stored entries skipped because they do not decode.
std::string render_rest(rest_endpoint e, const state_request& req, const private_state& st, std::size_t& invalid);

}  // namespace tickstream::edge
