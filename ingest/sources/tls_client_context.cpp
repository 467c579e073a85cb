#include "ingest/sources/tls_client_context.hpp"

#include <boost/asio/ssl/context.hpp>

namespace tickstream::ingest {

std::shared_ptr<boost::asio::ssl::context> tls_client_context() {
  static const auto ctx = [] {
    auto c = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
    c->set_default_verify_paths();
    c->set_verify_mode(boost::asio::ssl::verify_peer);
    return c;
  }();
  return ctx;
}

}  // namespace tickstream::ingest
