#pragma once
// Entitlements kept in Redis by the server API (POST /v1/entitlements), beside the token's claim:
//   ts:{u:<id>}:ent       {"plan":"basic","patterns":["news"]}  the user's record
//   ts:ent:plan:<plan>    {"patterns":["US:*","news"]}          the plan's record (named by the user's)
// What a connection may subscribe to (docs/PROTOCOL.md, "Entitlements"):
//   - with neither record: the token's claim, else the edge's default (as without Redis);
//   - with either: the token's claim (if any), the user's patterns and the plan's, together; the
//     edge's default no longer applies.
// The parsing and the merge are pure; read_entitlement_records is the I/O.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/redis/redis_client.hpp"
#include "common/result.hpp"
#include "edge/auth/entitlements.hpp"

namespace tickstream::edge {

struct entitlement_records {
  std::optional<std::vector<std::string>> user;           // the user's own patterns (nullopt: no record)
  std::string plan;                                       // the plan the user's record names ("" = none)
  std::optional<std::vector<std::string>> plan_patterns;  // that plan's patterns (nullopt: no record)
  bool any() const noexcept { return user.has_value() || plan_patterns.has_value(); }
};

// A user's record: fills user and plan. Error "bad_record" when it is not one.
common::result<bool> parse_user_record(std::string_view json, entitlement_records& into);
// A plan's record: fills plan_patterns. Error "bad_record" when it is not one.
common::result<bool> parse_plan_record(std::string_view json, entitlement_records& into);

// The connection's set from its token's claim (null: none), the records and the edge's default.
std::shared_ptr<const entitlements> merge_entitlements(const std::shared_ptr<const entitlements>& claim,
                                                       const entitlement_records& records,
                                                       const std::shared_ptr<const entitlements>& fallback);

// Reads the user's record, then its plan's. done runs on the Redis thread; an error is
// "unavailable" (Redis did not answer) or "bad_record" (a record that is not one: treat as absent
// or refuse, the caller decides).
void read_entitlement_records(common::redis_client& redis, const std::string& user,
                              std::function<void(common::result<entitlement_records>)> done);

}  // namespace tickstream::edge
