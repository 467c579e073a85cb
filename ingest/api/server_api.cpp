#include "ingest/api/server_api.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/redis/keys.hpp"
#include "common/tier_command.hpp"

namespace tickstream::ingest {

std::string api_error_body(std::string_view code, std::string_view message) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("error");
  w.String(code.data(), static_cast<rapidjson::SizeType>(code.size()));
  w.Key("message");
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

server_api::server_api(common::redis_client& redis, std::int64_t history_len, api_credentials creds,
                       publish_limits limits, reject_fn reject, count_fn count)
    : redis_(redis),
      store_(redis, history_len),
      creds_(std::move(creds)),
      limits_(limits),
      reject_(std::move(reject)),
      count_(std::move(count)) {}

bool server_api::handle(const http_request_view& req, const http_reply_fn& reply) {
  if (req.target != "/v1/publish" && req.target != "/v1/topics/publish" && req.target != "/v1/disconnect" &&
      req.target != "/v1/broadcast" && req.target != "/v1/presence" && req.target != "/v1/entitlements") {
    return false;
  }
  if (req.method != "POST") {
    reply(405, api_error_body("method_not_allowed", "use POST"));
    return true;
  }
  if (!authorized(req, reply)) return true;
  if (req.target == "/v1/publish") {
    publish(req, reply);
  } else if (req.target == "/v1/topics/publish") {
    publish_topics(req, reply);
  } else if (req.target == "/v1/disconnect") {
    disconnect(req, reply);
  } else if (req.target == "/v1/broadcast") {
    broadcast(req, reply);
  } else if (req.target == "/v1/entitlements") {
    set_entitlements(req, reply);
  } else {
    presence(req, reply);
  }
  return true;
}

void server_api::publish_topics(const http_request_view& req, const http_reply_fn& reply) {
  auto messages = parse_topic_publish_request(req.body, limits_);
  if (!messages) return refuse(messages.err().code == "too_large" ? 413 : 400, messages.err(), req.body, reply);
  // One connection, in order: a retained message is stored before it is published, so an edge
  // that reads it on a subscribe has it no later than the live copy (which it then drops).
  struct tally {
    std::atomic<std::size_t> left;
    std::atomic<bool> failed{false};
    std::atomic<std::int64_t> receivers{0};
  };
  auto t = std::make_shared<tally>();
  t->left = messages->size();
  const auto n = messages->size();
  const auto now = common::now_us();
  for (const auto& m : messages.value()) {
    auto json = encode_topic_message(m, now);
    if (m.retain) redis_.command({"SET", common::topic_last_key(m.topic), json});
    redis_.command({"PUBLISH", common::topic_channel(m.topic), std::move(json)},
                   [t, n, reply, count = count_](const common::result<common::redis_reply>& r) {
                     if (!r) {
                       t->failed = true;
                     } else {
                       t->receivers += r->integer;
                     }
                     if (--t->left != 0) return;
                     if (t->failed) {
                       return reply(503, api_error_body("unavailable", "Redis did not take every message; retry"));
                     }
                     if (count) count("topic_message", n);
                     // deliveries: one per edge holding the topic, summed over the messages.
                     reply(200, R"({"accepted":)" + std::to_string(n) + R"(,"deliveries":)" +
                                    std::to_string(t->receivers.load()) + "}");
                   });
  }
}

void server_api::disconnect(const http_request_view& req, const http_reply_fn& reply) {
  auto d = parse_disconnect_request(req.body);
  if (!d) return refuse(400, d.err(), req.body, reply);
  // One connection, in order: the revocation is in Redis before any edge hears the command, so
  // a client reconnecting at once is refused.
  if (!d->session.empty()) {
    redis_.command({"DEL", common::session_key(d->session)});
    redis_.command({"SET", common::revoked_key(d->session), "1", "EX", std::to_string(d->revoke_for_s)});
  }
  to_edges(common::encode_tier_command({"disconnect", d->user, d->session, d->reason, {}, {}}), "disconnect", reply);
}

void server_api::set_entitlements(const http_request_view& req, const http_reply_fn& reply) {
  auto e = parse_entitlements_request(req.body);
  if (!e) return refuse(400, e.err(), req.body, reply);
  // The record is in Redis before any edge hears that it changed (and is told only if it is).
  const bool of_user = !e->user.empty();
  const auto key = of_user ? common::user_key(e->user, common::user_data::ent) : common::plan_entitlements_key(e->plan);
  common::tier_command c;
  c.op = "entitlements";
  if (of_user) {
    c.user = e->user;
  } else {
    c.plan = e->plan;
  }
  const std::vector<std::string> write = e->clear ? std::vector<std::string>{"DEL", key}
                                                  : std::vector<std::string>{"SET", key, encode_entitlement_record(*e)};
  redis_.command(write,
                 [this, command = common::encode_tier_command(c), reply](const common::result<common::redis_reply>& r) {
                   if (!r) return reply(503, api_error_body("unavailable", "Redis did not store the record; retry"));
                   to_edges(command, "entitlements", reply);
                 });
}

void server_api::broadcast(const http_request_view& req, const http_reply_fn& reply) {
  auto data = parse_broadcast_request(req.body, limits_);
  if (!data) return refuse(data.err().code == "too_large" ? 413 : 400, data.err(), req.body, reply);
  to_edges(common::encode_tier_command({"broadcast", {}, {}, {}, std::move(data).value(), {}}), "broadcast", reply);
}

void server_api::presence(const http_request_view& req, const http_reply_fn& reply) {
  auto user = parse_presence_request(req.body);
  if (!user) return refuse(400, user.err(), req.body, reply);
  // Leases expire by Redis's clock (the edges take them with its TIME): read it first.
  redis_.command({"TIME"}, [this, user = std::move(user).value(), reply](const common::result<common::redis_reply>& t) {
    if (!t || t->elements.size() != 2) return reply(503, api_error_body("unavailable", "Redis did not answer; retry"));
    const auto now_ms = std::stoll(t->elements[0].str) * 1000 + std::stoll(t->elements[1].str) / 1000;
    redis_.command({"ZRANGEBYSCORE", common::user_key(user, common::user_data::conns), std::to_string(now_ms + 1),
                    "+inf", "WITHSCORES"},
                   [user, reply, now_ms](const common::result<common::redis_reply>& r) {
                     if (!r) return reply(503, api_error_body("unavailable", "Redis did not answer; retry"));
                     std::vector<std::pair<std::string, std::int64_t>> leases;
                     for (std::size_t i = 0; i + 1 < r->elements.size(); i += 2) {
                       leases.emplace_back(r->elements[i].str, std::stoll(r->elements[i + 1].str));
                     }
                     reply(200, render_presence(user, leases, now_ms));
                   });
  });
}

void server_api::to_edges(const std::string& command, const char* kind, const http_reply_fn& reply) {
  redis_.command({"PUBLISH", std::string(common::tier_control_channel), command},
                 [reply, kind, count = count_](const common::result<common::redis_reply>& r) {
                   if (!r) return reply(503, api_error_body("unavailable", "Redis did not take the command; retry"));
                   if (count) count(kind, 1);
                   reply(200, R"({"edges":)" + std::to_string(r->integer) + "}");
                 });
}

void server_api::refuse(unsigned status, const common::error& e, std::string_view body, const http_reply_fn& reply) {
  if (reject_) reject_(e, body);
  reply(status, api_error_body(e.code, e.message));
}

bool server_api::authorized(const http_request_view& req, const http_reply_fn& reply) {
  auto ok =
      authorize_api(creds_, req.authorization, req.timestamp, req.signature, req.body, common::now_us() / 1'000'000);
  if (ok) return true;
  refuse(401, ok.err(), req.body, reply);
  return false;
}

void server_api::publish(const http_request_view& req, const http_reply_fn& reply) {
  auto events = parse_publish_request(req.body, limits_);
  if (!events) return refuse(events.err().code == "too_large" ? 413 : 400, events.err(), req.body, reply);
  // One script run per user of the batch, each storing that user's events in their order; the
  // answer comes once Redis has every one. The outcomes are gathered on the Redis thread.
  struct user_batch {
    std::string user;
    std::vector<std::size_t> at;  // the events' places in the request
    std::vector<private_store::app_event_parts> parts;
  };
  std::vector<user_batch> batches;
  std::unordered_map<std::string_view, std::size_t> batch_of;  // views into the events' user ids
  const auto now = common::now_us();
  const auto timestamp = common::format_iso8601(now);  // once: every event of the request has it
  for (std::size_t i = 0; i < events->size(); ++i) {
    const auto& ev = events.value()[i];
    const auto [it, fresh] = batch_of.try_emplace(ev.user, batches.size());
    if (fresh) batches.push_back({ev.user, {}, {}});
    auto& b = batches[it->second];
    auto json = encode_app_event(ev, now, timestamp);
    b.at.push_back(i);
    b.parts.push_back({std::move(json.before), std::move(json.after),
                       ev.idempotency_key.empty() ? std::string() : "k:" + ev.idempotency_key});
  }
  struct tally {
    std::atomic<std::size_t> left;
    std::vector<std::int64_t> seqs;  // each written once, by its own batch's completion
    std::atomic<bool> failed{false};
  };
  auto t = std::make_shared<tally>();
  t->left = batches.size();
  t->seqs.assign(events->size(), 0);
  for (auto& b : batches) {
    store_.store_app_events(
        b.user, std::move(b.parts), now / 1000,
        [t, at = std::move(b.at), reply, count = count_](common::result<std::vector<std::int64_t>> r) {
          if (!r) {
            common::log_warn("storing app events failed", {{"code", r.err().code}, {"reason", r.err().message}});
            t->failed = true;
          } else {
            for (std::size_t k = 0; k < at.size(); ++k) t->seqs[at[k]] = r.value()[k];
          }
          if (--t->left != 0) return;
          if (t->failed) {
            return reply(503, api_error_body("unavailable",
                                             "Redis did not take every event; retry the request "
                                             "(events with an idempotency key are stored once)"));
          }
          std::size_t stored = 0;
          for (const auto s : t->seqs) stored += s > 0 ? 1 : 0;
          if (count && stored > 0) count("app_event", stored);
          rapidjson::StringBuffer buf;
          rapidjson::Writer<rapidjson::StringBuffer> w(buf);
          w.StartObject();
          w.Key("accepted");
          w.Uint64(stored);
          w.Key("duplicates");
          w.Uint64(t->seqs.size() - stored);
          w.Key("seqs");
          w.StartArray();
          for (const auto s : t->seqs) w.Int64(s);
          w.EndArray();
          w.EndObject();
          reply(200, std::string(buf.GetString(), buf.GetSize()));
        });
  }
}

}  // namespace tickstream::ingest
