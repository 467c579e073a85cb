#pragma once
// What the ingest's HTTP listener hands to a route other than its own /v1/events (the server API),
// without Beast types, so that the routes stay out of Asio's headers.

#include <functional>
#include <string>
#include <string_view>

namespace tickstream::ingest {

// A request for another path, handed to the routes given to the server (the server API).
struct http_request_view {
  std::string_view method;
  std::string_view target;
  std::string_view authorization;  // the Authorization header
  std::string_view timestamp;      // X-Tickstream-Timestamp
  std::string_view signature;      // X-Tickstream-Signature
  std::string_view body;
};
// The answer (a JSON body); may be called from any thread, once.
using http_reply_fn = std::function<void(unsigned status, std::string body)>;
// Takes the request (and answers it through reply) or returns false: 404.
using http_route_fn = std::function<bool(const http_request_view&, http_reply_fn reply)>;

}  // namespace tickstream::ingest
