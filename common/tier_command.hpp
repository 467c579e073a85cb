#pragma once
// A command for every edge of the tier, published by the server API on tier_control_channel
// (common/redis/keys.hpp) and acted on by each edge:
//   {"op":"disconnect","user":"u-42","session":"s-1","reason":"logged out"}
// closes the user's connections (only those of that session or token id when "session" is
// given) with close code 4010 and the reason;
//   {"op":"broadcast","data":{...}}
// sends {"type":"broadcast","data":{...},"timestamp":...} to every connection;
//   {"op":"entitlements","user":"u-42"}  or  {"op":"entitlements","plan":"basic"}
// says that the user's (or the plan's) entitlement record changed: connections of that user (or
// on that plan) read it again and drop what they may no longer hold. Pure: both ends test it
// directly.

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace tickstream::common {

struct tier_command {
  std::string op;       // "disconnect", "broadcast" or "entitlements"
  std::string user;     // disconnect: a valid user id; entitlements: the user ("" with a plan)
  std::string session;  // "" = every connection of the user
  std::string reason;   // for the close frame (at most 100 bytes; "" = "revoked")
  std::string data;     // broadcast: the JSON object, compact
  std::string plan;     // entitlements: the plan ("" with a user)
  bool operator==(const tier_command&) const = default;
};

std::string encode_tier_command(const tier_command& c);
// Errors: "invalid_json", "bad_tier_command" (unknown op, missing or invalid user, bad field).
result<tier_command> decode_tier_command(std::string_view json);

// True for a session or token id: 1..128 printable ASCII characters other than space.
bool is_valid_session_id(std::string_view id) noexcept;
// True for an entitlement plan's name: 1..64 of A-Z a-z 0-9 _ . : -.
bool is_valid_plan_name(std::string_view plan) noexcept;

}  // namespace tickstream::common
