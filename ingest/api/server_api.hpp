#pragma once
// The server API an application's back end calls (docs/openapi.yaml), served on the ingest's HTTP
// listener beside the webhook:
//   POST /v1/publish     app events into users' private streams (one, or a batch)
//   POST /v1/topics/publish  messages on public topics (one, or a batch), optionally retained
//   POST /v1/disconnect  close a user's (or one session's) connections on every edge, and revoke
//                        the session
//   POST /v1/broadcast   one message to every connection on every edge
//   POST /v1/presence    a user's live connections across the tier (from the connection leases)
//   POST /v1/entitlements  a user's or a plan's entitlement record; edges apply it at once
// Every request is authenticated (api_auth.hpp) and validated whole (api_request.hpp) before
// anything is stored; a refused request stores nothing. The answer comes once Redis has stored
// every event.
//
// Threading: handle() runs on the listener's thread; the stores complete on the Redis thread,
// and the reply function posts the answer back.

#include <functional>
#include <string>
#include <string_view>

#include "common/redis/redis_client.hpp"
#include "ingest/api/api_auth.hpp"
#include "ingest/api/api_request.hpp"
#include "ingest/publish/private_store.hpp"
#include "ingest/sources/http_route.hpp"

namespace tickstream::ingest {

class server_api {
 public:
  // A refused request: counted (tickstream_ingest_invalid_total{source="api"}), logged and kept
  // in the dead letters by the app.
  using reject_fn = std::function<void(const common::error&, std::string_view body)>;
  // Events the API stored (kind "app_event"), for tickstream_ingest_events_total.
  using count_fn = std::function<void(std::string_view kind, std::size_t n)>;

  server_api(common::redis_client& redis, std::int64_t history_len, api_credentials creds, publish_limits limits,
             reject_fn reject, count_fn count);

  // The listener's route: true when the path is the API's (then reply is called once).
  bool handle(const http_request_view& req, const http_reply_fn& reply);

 private:
  void publish(const http_request_view& req, const http_reply_fn& reply);
  void publish_topics(const http_request_view& req, const http_reply_fn& reply);
  void disconnect(const http_request_view& req, const http_reply_fn& reply);
  void broadcast(const http_request_view& req, const http_reply_fn& reply);
  void presence(const http_request_view& req, const http_reply_fn& reply);
  void set_entitlements(const http_request_view& req, const http_reply_fn& reply);
  // Publishes a command on the tier channel and answers {"edges":N}.
  void to_edges(const std::string& command, const char* kind, const http_reply_fn& reply);
  // Authenticates; on failure replies 401 and returns false.
  bool authorized(const http_request_view& req, const http_reply_fn& reply);
  void refuse(unsigned status, const common::error& e, std::string_view body, const http_reply_fn& reply);

  common::redis_client& redis_;
  private_store store_;
  api_credentials creds_;
  publish_limits limits_;
  reject_fn reject_;
  count_fn count_;
};

// {"error":code,"message":message}
std::string api_error_body(std::string_view code, std::string_view message);

}  // namespace tickstream::ingest
