#pragma once
// A real redis-server for one test: loopback, a free port, no persistence. It can be killed and
// restarted on the same port to test reconnects.

#include <memory>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace tickstream::test {

class redis_server {
 public:
  // Starts it and waits until it answers PING. persistent: an append-only file fsynced on every
  // write, in a temporary directory, so a killed and restarted server keeps every acknowledged write.
  explicit redis_server(bool persistent = false);
  ~redis_server();

  int port() const noexcept { return port_; }
  void kill();     // SIGKILL, as in a crash
  void restart();  // starts again on the same port and waits for PING
  // SIGSTOP / SIGCONT: a stalled Redis, whose sockets stay open and answer nothing.
  void pause();
  void resume();
  // Runs redis-cli with args against this server and returns its stdout.
  std::string cli(const std::vector<std::string>& args) const;

 private:
  std::vector<std::string> args() const;
  void start();

  int port_ = 0;
  std::string dir_;  // persistent: where the append-only file lives
  std::unique_ptr<child_process> proc_;
};

}  // namespace tickstream::test
