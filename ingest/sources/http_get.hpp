#pragma once
// One HTTP(S) GET on an io_context, for the broker's REST API: resolve, connect, TLS with host
// name verification (https), request, response, each step under one deadline; one connection per
// request (the reconciliation runs once a minute per account); bodies up to Beast's 8 MiB default.
// Asio headers stay in the .cpp.

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace boost::asio {
class io_context;
}

namespace tickstream::ingest {

struct http_reply {
  unsigned status = 0;
  std::string body;
};

// GET url (http://host[:port]/path or https://...) with headers; done runs on ioc's thread with
// the reply (any status), or an error: "bad_url", "timeout", "http_failed" (the step and why).
void http_get(boost::asio::io_context& ioc, const std::string& url,
              const std::vector<std::pair<std::string, std::string>>& headers, std::chrono::milliseconds timeout,
              const std::function<void(common::result<http_reply>)>& done);

// The Authorization header's value for HTTP Basic auth: "Basic " + base64(key:secret).
std::string basic_authorization(const std::string& key, const std::string& secret);

}  // namespace tickstream::ingest
