// What clients send over the WebSocket (edge::parse_client_message) and what the edge plans for a
// subscribe or unsubscribe (edge::plan_subscribe / plan_unsubscribe), on arbitrary text.
//
// Input: 12 bytes describe what the connection holds (anonymous or not, private channels held,
// its limits, and for each of the first 16 symbols of the message whether the connection holds
// it, follows it for P&L only, or its worker holds it); the rest is the text frame's payload
// (valid UTF-8 only: the frame parser refuses anything else before this runs). Checked:
//   - a parsed message respects the documented bounds, and a subscription written back as JSON
//     parses to the same request;
//   - the plan accepts only normalized symbols of the request, each once; every other entry is
//     rejected with a known code or is a duplicate; the limits (per connection, per address, per
//     edge) are never exceeded; private channels only for an authenticated connection;
//   - an unsubscribe releases only what the client holds, each symbol either released or kept
//     for P&L;
//   - every reply the edge would render from them is valid JSON and valid UTF-8 (it goes out
//     in a text frame).
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/symbol.hpp"
#include "edge/net/subscription_plan.hpp"
#include "edge/protocol/client_protocol.hpp"
#include "edge/protocol/private_channels.hpp"
#include "edge/protocol/utf8.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace tickstream;
using namespace tickstream::edge;

namespace {

// What the edge sends is a text frame: valid UTF-8 and (for these replies) a JSON object.
void check_reply(const std::string& json) {
  FUZZ_CHECK(valid_utf8(json));
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  FUZZ_CHECK(!d.HasParseError() && d.IsObject() && d.HasMember("type"));
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string write_back(const subscription_request& req) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("type");
  w.String(req.subscribe ? "subscribe" : "unsubscribe");
  for (const auto& [key, list] : {std::pair{"symbols", &req.symbols}, std::pair{"channels", &req.channels}}) {
    w.Key(key);
    w.StartArray();
    for (const auto& s : *list) w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    w.EndArray();
  }
  if (req.batch_ms) {
    w.Key("batch_ms");
    w.Int64(*req.batch_ms);
  }
  if (req.since) {
    w.Key("since");
    w.Int64(*req.since);
  }
  w.Key("snapshot");
  w.Bool(req.snapshot);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

void check_subscription(subscription_request req, const std::uint8_t* cfg) {
  // The request round-trips through its JSON form.
  const auto again = parse_client_message(write_back(req));
  FUZZ_CHECK(again.ok() && std::holds_alternative<subscription_request>(again.value()));
  const auto& r2 = std::get<subscription_request>(again.value());
  FUZZ_CHECK(r2.subscribe == req.subscribe && r2.symbols == req.symbols && r2.channels == req.channels &&
             r2.batch_ms == req.batch_ms && r2.since == req.since && r2.snapshot == req.snapshot);

  // What the connection holds, as the input describes it (follow_only within keys, as the
  // session keeps them).
  subscription_holdings held;
  held.anonymous = (cfg[0] & 0x80) != 0;
  held.channel_bits = held.anonymous ? 0 : (cfg[0] & 0x0f);
  held.max_subscriptions = cfg[1];
  held.address_room = cfg[2] == 0xff ? no_limit : cfg[2];
  held.channel_room = cfg[3] == 0xff ? no_limit : cfg[3];
  held.server_window = std::chrono::milliseconds(cfg[10] * 10);
  const std::string route = "{u}fuzz-user";
  if (held.channel_bits != 0) held.keys.push_back(route);
  for (std::size_t i = 0; i < req.symbols.size() && i < 16; ++i) {
    auto s = common::normalize_symbol(req.symbols[i]);
    if (!s) continue;
    const unsigned state = (cfg[4 + i / 4] >> (2 * (i % 4))) & 3;
    if (state != 0 && !contains(held.keys, s.value())) {
      held.keys.push_back(s.value());
      if (state == 2) held.follow_only.push_back(s.value());
      if (state == 3) held.followed.push_back(s.value());
    }
    if (((cfg[8] << 8 | cfg[9]) >> i) & 1) held.worker_holds.push_back(s.value());
  }
  for (unsigned i = 0; i < (cfg[10] & 7); ++i) held.keys.push_back("HELD" + std::to_string(i));

  auto copy = req;
  if (req.subscribe) {
    const auto plan = plan_subscribe(copy, held, route);
    std::unordered_set<std::string> seen;
    for (const auto& s : plan.symbols) {
      FUZZ_CHECK(seen.insert(s).second);
      const auto n = common::normalize_symbol(s);
      FUZZ_CHECK(n.ok() && n.value() == s);
      FUZZ_CHECK(std::any_of(req.symbols.begin(), req.symbols.end(), [&](const std::string& raw) {
        const auto m = common::normalize_symbol(raw);
        return m && m.value() == s;
      }));
    }
    // Every entry of the request is accepted, rejected or a repeat of one before it.
    for (std::size_t i = 0; i < req.symbols.size(); ++i) {
      const auto n = common::normalize_symbol(req.symbols[i]);
      const bool rejected = std::any_of(plan.rejected.begin(), plan.rejected.end(), [&](const rejection& r) {
        return r.name == req.symbols[i] || (n && r.name == n.value());
      });
      FUZZ_CHECK((n && contains(plan.symbols, n.value())) || rejected);
    }
    for (const auto& r : plan.rejected) {
      FUZZ_CHECK(r.code == "invalid_symbol" || r.code == "too_many_subscriptions" || r.code == "too_many_channels" ||
                 r.code == "unknown_channel" || r.code == "unauthenticated");
    }
    // (plan.new_channels counts refused attempts too, so the channels are counted here.)
    std::size_t new_symbols = 0, new_channels = 0;
    for (const auto& s : plan.symbols) {
      if (contains(held.keys, s)) continue;
      ++new_symbols;
      if (!contains(held.worker_holds, s)) ++new_channels;
    }
    FUZZ_CHECK(new_symbols == plan.new_symbols);
    FUZZ_CHECK(plan.new_symbols <= held.address_room);
    FUZZ_CHECK(new_channels <= held.channel_room);
    const std::size_t before = held.keys.size() - held.follow_only.size();
    const std::size_t route_added = plan.channel_bits != 0 && !contains(held.keys, route) ? 1 : 0;
    if (plan.new_symbols > 0) FUZZ_CHECK(before + route_added + plan.new_symbols <= held.max_subscriptions);
    for (const auto& s : plan.taken_over) FUZZ_CHECK(contains(held.follow_only, s) && contains(plan.symbols, s));
    if (held.anonymous) FUZZ_CHECK(plan.channel_bits == 0 && plan.channels.empty());
    std::uint8_t bits = 0;
    for (const auto& ch : plan.channels) {
      FUZZ_CHECK((bits & channel_bit_of(std::string_view(ch))) == 0);  // each once
      bits |= channel_bit_of(std::string_view(ch));
    }
    FUZZ_CHECK(bits == plan.channel_bits);
    if (req.batch_ms) {
      FUZZ_CHECK(plan.window && *plan.window == std::max(held.server_window, std::chrono::milliseconds(*req.batch_ms)));
    } else {
      FUZZ_CHECK(!plan.window);
    }
    check_reply(render_subscribed(plan.symbols, plan.channels, plan.rejected, plan.window ? plan.window->count() : 0));
  } else {
    const auto plan = plan_unsubscribe(copy, held);
    FUZZ_CHECK(plan.symbols.size() == plan.to_release.size() + plan.to_follow.size());
    for (const auto& s : plan.symbols) {
      FUZZ_CHECK(contains(held.keys, s) && !contains(held.follow_only, s));
      FUZZ_CHECK(contains(plan.to_release, s) != contains(plan.to_follow, s));
    }
    for (const auto& s : plan.to_follow) FUZZ_CHECK(contains(held.followed, s));
    FUZZ_CHECK((plan.channel_bits & ~held.channel_bits) == 0);
    check_reply(render_unsubscribed(plan.symbols, plan.channels));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 12) return 0;
  const auto text = fuzz::as_view(data + 12, size - 12);
  if (!valid_utf8(text)) return 0;  // refused with 1007 before it is parsed
  const auto msg = parse_client_message(text);
  if (!msg) {
    const auto& e = msg.err();
    FUZZ_CHECK(e.code == "invalid_json" || e.code == "invalid_message" || e.code == "unknown_type");
    check_reply(render_error(e.code, e.message));  // the client is told why
    return 0;
  }
  if (const auto* sub = std::get_if<subscription_request>(&msg.value())) {
    FUZZ_CHECK(!sub->symbols.empty() || !sub->channels.empty());
    FUZZ_CHECK(sub->symbols.size() <= max_list_entries && sub->channels.size() <= max_list_entries);
    for (const auto& s : sub->symbols) FUZZ_CHECK(s.size() <= 256);
    for (const auto& s : sub->channels) FUZZ_CHECK(s.size() <= 256);
    if (sub->batch_ms) FUZZ_CHECK(*sub->batch_ms >= 0 && *sub->batch_ms <= 60'000);
    if (sub->since) FUZZ_CHECK(*sub->since >= 0);
    check_subscription(*sub, data);
  } else if (const auto* ping = std::get_if<ping_request>(&msg.value())) {
    const auto pong = render_pong(ping->id_json, 1'700'000'000'000'000, "fuzz-edge");
    check_reply(pong);
    if (ping->id_json) FUZZ_CHECK(pong.find(*ping->id_json) != std::string::npos);
  } else if (const auto* refresh = std::get_if<refresh_request>(&msg.value())) {
    FUZZ_CHECK(refresh->token.size() <= 8192);
  } else if (const auto* auth = std::get_if<auth_message>(&msg.value())) {
    FUZZ_CHECK(auth->token.size() <= 8192);
  }
  return 0;
}
