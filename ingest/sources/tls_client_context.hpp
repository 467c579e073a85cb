#pragma once
// The one TLS client context of the process (system trust store, peer verification), made on
// first use and shared by every upstream connection: loading the trust store costs ~0.1-0.2 s of
// CPU, which one context per connection (a thousand broker accounts, a REST request per account
// a minute) would pay each time. Thread-safe.

#include <memory>

namespace boost::asio::ssl {
class context;
}

namespace tickstream::ingest {

std::shared_ptr<boost::asio::ssl::context> tls_client_context();

}  // namespace tickstream::ingest
