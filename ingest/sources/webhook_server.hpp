#pragma once
// The HTTP webhook source: POST /v1/events with one normalized event or an array of them, from an
// application's own back end (account balances and anything else no broker stream carries).
// Signed with a shared secret (webhook_signature.hpp). The answer is 200 only once every event of
// the request is in Redis; a request with any invalid event is refused whole (400), so a client
// can simply retry a failed request. Every request is answered within redis_timeout: 503 at once
// while Redis is stalled or its queue has no room for the request's private events (nothing is
// queued), 503 at the deadline for a Redis still being connected or slow to confirm (its events
// may still be stored then: a retry's duplicates are recognised).
//
// Threading: runs on the ingest's io_context; publishing completes on the Redis thread and the
// answer is posted back.

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "ingest/publish/event_publisher.hpp"
#include "ingest/sources/http_route.hpp"

namespace tickstream::ingest {

class webhook_server {
 public:
  // Counts and dead-letters a refused request (source "webhook").
  using reject_fn = std::function<void(const common::error&, std::string_view body)>;

  // Binds at once; throws std::system_error if the address cannot be bound. routes, if set,
  // answers every path but /v1/events.
  webhook_server(boost::asio::io_context& ioc, const std::string& listen, std::string secret,
                 event_publisher& publisher, reject_fn reject, http_route_fn routes = {},
                 std::chrono::milliseconds redis_timeout = std::chrono::milliseconds(1000));
  ~webhook_server();
  unsigned short port() const;
  void stop();

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace tickstream::ingest
