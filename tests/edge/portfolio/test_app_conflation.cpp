// Which app events an edge conflates (--conflate): the rules as configured, and the frames the
// fan-out makes of app events under them.
#include <catch2/catch.hpp>

#include <string>

#include "edge/app.hpp"
#include "edge/config.hpp"
#include "edge/portfolio/app_conflation.hpp"
#include "edge/portfolio/private_frame.hpp"

using namespace tickstream;
using namespace tickstream::edge;

namespace {

std::string app_json(const std::string& type, const std::string& data, std::int64_t seq = 7) {
  std::string out = R"({"type":")";
  out.append(type)
      .append(R"(","userId":"u-1","seq":)")
      .append(std::to_string(seq))
      .append(R"(,"timestamp":"2026-11-20T14:30:02.000000Z","data":)")
      .append(data)
      .append(R"(,"recv_us":1795185002000000,"source":"api"})");
  return out;
}

}  // namespace

TEST_CASE("conflation rules: type=field or type alone, repeatable as a list", "[conflation][config]") {
  const auto rules = app_conflation::parse("portfolio_update=portfolioId,,risk_summary");
  REQUIRE(rules);
  CHECK(rules->key_field("portfolio_update") == std::optional<std::string_view>("portfolioId"));
  CHECK(rules->key_field("risk_summary") == std::optional<std::string_view>(""));
  CHECK_FALSE(rules->key_field("decision_made"));
  CHECK(app_conflation::parse("")->empty());
}

TEST_CASE("conflation rules: a bad rule is refused naming the flag and the rule", "[conflation][config]") {
  for (const auto* bad : {"Portfolio=id", "portfolio_update=", "portfolio_update=a.b", "=id", "position_update=symbol",
                          "conflated", "a=x,a=y"}) {
    INFO(bad);
    const auto r = app_conflation::parse(bad);
    REQUIRE_FALSE(r);
    CHECK(r.err().code == "conflate");
    CHECK(r.err().message.find('\'') == 0);  // names the rule at fault
  }
}

TEST_CASE("an app event of a conflated type is keyed by its type and key field, others are not", "[conflation]") {
  const auto rules = app_conflation::parse("portfolio_update=portfolioId,risk_summary").value();
  const auto frame_of = [&](const std::string& json, const app_conflation* c) {
    auto f = decode_private_frame(json, "u-1", c);
    REQUIRE(f);
    return std::move(f).value();
  };
  const auto p = frame_of(app_json("portfolio_update", R"({"portfolioId":"p1","value":"10.00"})"), &rules);
  CHECK(p->kind == frame_kind::app_latest);
  CHECK(p->key == "portfolio_update:p1");
  CHECK(p->seq == 7);
  CHECK(frame_of(app_json("portfolio_update", R"({"portfolioId":42})"), &rules)->key == "portfolio_update:42");
  CHECK(frame_of(app_json("risk_summary", R"({"x":1})"), &rules)->key == "risk_summary");
  // Without the field (or with an object there) the event is never conflated.
  CHECK(frame_of(app_json("portfolio_update", R"({"id":"p1"})"), &rules)->kind == frame_kind::app_event);
  CHECK(frame_of(app_json("portfolio_update", R"({"portfolioId":{"a":1}})"), &rules)->kind == frame_kind::app_event);
  CHECK(frame_of(app_json("decision_made", R"({"portfolioId":"p1"})"), &rules)->kind == frame_kind::app_event);
  // No rules (the default, and the history read back for a resume): never conflated.
  CHECK(frame_of(app_json("portfolio_update", R"({"portfolioId":"p1"})"), nullptr)->kind == frame_kind::app_event);
  // The shared frame is the payload as stored, whatever the rules.
  CHECK(p->payload() == app_json("portfolio_update", R"({"portfolioId":"p1","value":"10.00"})"));
}

TEST_CASE("an app event named like the tier's own messages is refused", "[conflation]") {
  for (const auto* type : {"conflated", "snapshot", "batch"}) {
    INFO(type);
    const auto f = decode_private_frame(app_json(type, "{}"), "u-1");
    REQUIRE_FALSE(f);
    CHECK(f.err().code == "reserved_type");
  }
}

TEST_CASE("the conflate flag is repeatable and adds to TS_CONFLATE, a bad rule is refused naming the flag",
          "[conflation][config]") {
  edge::app_config c;
  common::config_parser p("tickstream-edge", "test");
  c.bind(p);
  const char* argv[] = {"tickstream-edge", "--conflate", "portfolio_update=portfolioId", "--conflate=risk_summary"};
  const auto out = p.parse(4, argv, [](const char* name) -> const char* {
    return std::string_view(name) == "TS_CONFLATE" ? "positions_update=accountId" : nullptr;
  });
  REQUIRE_FALSE(out.error);
  CHECK(c.conflate == "positions_update=accountId,portfolio_update=portfolioId,risk_summary");
  CHECK(app_conflation::parse(c.conflate));
  CHECK(edge::app_config{}.conflate.empty());  // default: nothing conflated

  c.conflate = "portfolio_update=portfolioId,trade_executed=executionId";
  const auto made = edge::app::make(c);
  REQUIRE_FALSE(made);
  CHECK(made.err().code == "conflate");  // printed as "--conflate: ..."
  CHECK(made.err().message.find("trade_executed=executionId") != std::string::npos);
}
