#include "edge/auth/entitlement_records.hpp"

#include <rapidjson/document.h>

#include "common/redis/keys.hpp"
#include "common/symbol.hpp"
#include "common/tier_command.hpp"

namespace tickstream::edge {
namespace {

common::error bad(std::string_view why) { return {"bad_record", "entitlement record: " + std::string(why)}; }

// The "patterns" array of a record, each a valid pattern.
common::result<std::vector<std::string>> patterns_of(const rapidjson::Value& doc) {
  const auto it = doc.FindMember("patterns");
  if (it == doc.MemberEnd()) return std::vector<std::string>{};
  if (!it->value.IsArray()) return bad("'patterns' is not an array");
  std::vector<std::string> out;
  for (const auto& p : it->value.GetArray()) {
    if (!p.IsString() || !common::is_valid_entitlement_pattern(std::string_view(p.GetString(), p.GetStringLength()))) {
      return bad("'patterns' holds an entry that is not a pattern");
    }
    out.emplace_back(p.GetString(), p.GetStringLength());
  }
  return out;
}

}  // namespace

common::result<bool> parse_user_record(std::string_view json, entitlement_records& into) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return bad("not a JSON object");
  auto patterns = patterns_of(doc);
  if (!patterns) return std::move(patterns).err();
  if (const auto plan = doc.FindMember("plan"); plan != doc.MemberEnd()) {
    if (!plan->value.IsString() ||
        !common::is_valid_plan_name(std::string_view(plan->value.GetString(), plan->value.GetStringLength()))) {
      return bad("'plan' is not a plan name");
    }
    into.plan.assign(plan->value.GetString(), plan->value.GetStringLength());
  }
  into.user = std::move(patterns).value();
  return true;
}

common::result<bool> parse_plan_record(std::string_view json, entitlement_records& into) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return bad("not a JSON object");
  auto patterns = patterns_of(doc);
  if (!patterns) return std::move(patterns).err();
  into.plan_patterns = std::move(patterns).value();
  return true;
}

std::shared_ptr<const entitlements> merge_entitlements(const std::shared_ptr<const entitlements>& claim,
                                                       const entitlement_records& records,
                                                       const std::shared_ptr<const entitlements>& fallback) {
  if (!records.any()) return claim ? claim : fallback;
  std::vector<std::string> all;
  if (claim) all = claim->patterns();
  for (const auto* list : {&records.user, &records.plan_patterns}) {
    if (*list) all.insert(all.end(), (*list)->begin(), (*list)->end());
  }
  return std::make_shared<const entitlements>(std::move(all));
}

void read_entitlement_records(common::redis_client& redis, const std::string& user,
                              std::function<void(common::result<entitlement_records>)> done) {
  redis.command({"GET", common::user_key(user, common::user_data::ent)},
                [&redis, done = std::move(done)](const common::result<common::redis_reply>& r) {
                  if (!r) return done(common::error{"unavailable", "entitlements cannot be read now"});
                  entitlement_records records;
                  if (r->type != common::redis_reply::kind::string) return done(records);
                  if (auto ok = parse_user_record(r->str, records); !ok) return done(std::move(ok).err());
                  if (records.plan.empty()) return done(records);
                  const auto plan_key = common::plan_entitlements_key(records.plan);
                  redis.command({"GET", plan_key}, [records = std::move(records),
                                                    done](const common::result<common::redis_reply>& p) mutable {
                    if (!p) return done(common::error{"unavailable", "entitlements cannot be read now"});
                    if (p->type == common::redis_reply::kind::string) {
                      if (auto ok = parse_plan_record(p->str, records); !ok) return done(std::move(ok).err());
                    }
                    done(std::move(records));
                  });
                });
}

}  // namespace tickstream::edge
