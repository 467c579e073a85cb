#pragma once
// wss:// for ws_client: the same client over TLS (OpenSSL), verifying the server's certificate
// chain and host name. Its own library, so that only the tools that speak TLS pay its build.

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bench/ws_client.hpp"
#include "common/result.hpp"

namespace tickstream::client {

struct tls_options {
  std::string ca_file;    // PEM bundle to trust (empty: the system's)
  bool insecure = false;  // skip certificate verification (testing against a self-signed edge only)
};

common::result<std::unique_ptr<ws_client>> connect_tls(const ws_url& url, std::chrono::milliseconds timeout,
                                                       const std::vector<std::pair<std::string, std::string>>& headers,
                                                       const tls_options& tls = {});

}  // namespace tickstream::client
