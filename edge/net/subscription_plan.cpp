#include "edge/net/subscription_plan.hpp"

#include <algorithm>
#include <unordered_set>

#include "common/symbol.hpp"
#include "edge/protocol/frame.hpp"
#include "edge/protocol/private_channels.hpp"

namespace tickstream::edge {
namespace {

bool contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// Valid channel names, each once, and their bits; invalid or unauthorized ones are rejected.
std::uint8_t take_channels(subscription_request& req, bool anonymous, std::vector<std::string>& out,
                           std::vector<rejection>& rejected) {
  std::uint8_t bits = 0;
  for (auto& ch : req.channels) {
    const auto bit = channel_bit_of(std::string_view(ch));
    if (bit == 0) {
      rejected.push_back(
          {std::move(ch), "unknown_channel", "channels are positions, orders, account, trades and events"});
    } else if (anonymous) {
      rejected.push_back({std::move(ch), "unauthenticated", "private channels need an authenticated connection"});
    } else if ((bits & bit) == 0) {
      bits |= bit;
      out.push_back(std::move(ch));
    }
  }
  return bits;
}

// Normalized symbols, each once; invalid ones and those the connection is not entitled to are
// rejected.
std::vector<std::string> take_symbols(subscription_request& req, const entitlements* entitled,
                                      std::vector<rejection>& rejected) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (auto& raw : req.symbols) {
    auto sym = common::normalize_symbol(raw);
    if (!sym) {
      rejected.push_back({std::move(raw), sym.err().code, sym.err().message});
    } else if (entitled != nullptr && !entitled->allows(sym.value())) {
      rejected.push_back({std::move(sym).value(), "not_entitled", "this connection is not entitled to this symbol"});
    } else if (seen.insert(sym.value()).second) {
      out.push_back(std::move(sym).value());
    }
  }
  return out;
}

// Valid topics, each once; invalid ones and those the connection is not entitled to are rejected.
std::vector<std::string> take_topics(subscription_request& req, const entitlements* entitled,
                                     std::vector<rejection>& rejected) {
  std::vector<std::string> out;
  for (auto& raw : req.topics) {
    auto topic = common::validate_topic(raw);
    if (!topic) {
      rejected.push_back({std::move(raw), topic.err().code, topic.err().message});
    } else if (entitled != nullptr && !entitled->allows(topic.value())) {
      rejected.push_back({std::move(topic).value(), "not_entitled", "this connection is not entitled to this topic"});
    } else if (!contains(out, topic.value())) {
      out.push_back(std::move(topic).value());
    }
  }
  return out;
}

}  // namespace

subscribe_plan plan_subscribe(subscription_request& req, const subscription_holdings& held,
                              const std::string& user_route) {
  subscribe_plan plan;
  plan.channel_bits = take_channels(req, held.anonymous, plan.channels, plan.rejected);
  auto symbols = take_symbols(req, held.entitled, plan.rejected);
  if (req.batch_ms) {
    // A client may widen its window, never narrow it below the server's.
    plan.window = std::max(held.server_window, std::chrono::milliseconds(*req.batch_ms));
  }
  // The client's subscriptions: every key held, less the symbols held only for P&L, plus the
  // user's route if this message adds it.
  std::size_t count = held.keys.size() - held.follow_only.size();
  const auto over_limit = "a connection may hold at most " + std::to_string(held.max_subscriptions) +
                          (held.anonymous ? " subscriptions without authentication" : " subscriptions");
  if (plan.channel_bits != 0 && !contains(held.keys, user_route)) ++count;
  for (auto& s : symbols) {
    if (contains(held.follow_only, s)) {
      plan.taken_over.push_back(s);  // already on the worker for P&L: now the client's too
      ++count;
    } else if (!contains(held.keys, s)) {
      if (count >= held.max_subscriptions) {
        plan.rejected.push_back({s, "too_many_subscriptions", over_limit});
        continue;
      }
      if (plan.new_symbols >= held.address_room) {
        plan.rejected.push_back(
            {s, "too_many_subscriptions", "this address holds too many subscriptions on this edge"});
        continue;
      }
      if (!contains(held.worker_holds, s) && plan.new_channels++ >= held.channel_room) {
        plan.rejected.push_back({s, "too_many_channels", "this edge holds as many channels as it may; try later"});
        continue;
      }
      ++count;
      ++plan.new_symbols;
    }
    plan.symbols.push_back(std::move(s));
  }
  // Topics count like symbols against the connection's limit and the edge's channels (not
  // against its address: that quota protects the market-data channels).
  for (auto& t : take_topics(req, held.entitled, plan.rejected)) {
    const auto route = topic_route(t);
    if (!contains(held.keys, route)) {
      if (count >= held.max_subscriptions) {
        plan.rejected.push_back({t, "too_many_subscriptions", over_limit});
        continue;
      }
      if (!contains(held.worker_holds, route) && plan.new_channels++ >= held.channel_room) {
        plan.rejected.push_back({t, "too_many_channels", "this edge holds as many channels as it may; try later"});
        continue;
      }
      ++count;
    }
    plan.topics.push_back(std::move(t));
  }
  return plan;
}

unsubscribe_plan plan_unsubscribe(subscription_request& req, const subscription_holdings& held) {
  unsubscribe_plan plan;
  std::vector<rejection> ignored;  // an unsubscribe answers with what it released only
  std::vector<std::string> channels;
  const auto bits = take_channels(req, held.anonymous, channels, ignored);
  for (auto& s : take_symbols(req, nullptr, ignored)) {                      // unsubscribing needs no entitlement
    if (contains(held.follow_only, s) || !contains(held.keys, s)) continue;  // not the client's
    if (contains(held.followed, s)) {
      plan.to_follow.push_back(s);  // the ticks keep coming for P&L, no longer to the client
    } else {
      plan.to_release.push_back(s);
    }
    plan.symbols.push_back(std::move(s));
  }
  for (auto& ch : channels) {
    if ((held.channel_bits & channel_bit_of(std::string_view(ch))) != 0) plan.channels.push_back(std::move(ch));
  }
  plan.channel_bits = bits & held.channel_bits;
  for (auto& t : take_topics(req, nullptr, ignored)) {
    if (contains(held.keys, topic_route(t))) plan.topics.push_back(std::move(t));
  }
  return plan;
}

}  // namespace tickstream::edge
