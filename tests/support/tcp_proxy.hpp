#pragma once
// A loopback TCP proxy for tests that need a connection to go quiet while its socket stays
// healthy (a "wedged" peer): it can stop passing the server's bytes to chosen connections.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tickstream::test {

class tcp_proxy {
 public:
  explicit tcp_proxy(int target_port);  // listens on a free loopback port
  ~tcp_proxy();
  tcp_proxy(const tcp_proxy&) = delete;
  tcp_proxy& operator=(const tcp_proxy&) = delete;

  int port() const noexcept { return port_; }
  // While frozen, bytes from the server are no longer passed to connections whose client has sent
  // a Redis SUBSCRIBE (pub/sub connections): they stay queued, and the sockets stay healthy.
  void freeze_subscribers() { frozen_ = true; }
  void thaw() { frozen_ = false; }

 private:
  struct link;
  void accept_loop();
  void pump(const std::shared_ptr<link>& l, bool to_server);

  int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::atomic<bool> frozen_{false};
  std::vector<std::shared_ptr<link>> links_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace tickstream::test
