#pragma once
// A child process started by a test (redis-server, tickstream-ingest), killed at destruction.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tickstream::test {

class child_process {
 public:
  // Starts argv[0] (searched in PATH) with stdout and stderr sent to log_path (or /dev/null).
  // Throws std::runtime_error if it cannot be started.
  child_process(std::vector<std::string> argv, const std::string& log_path = "/dev/null");
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const noexcept { return pid_; }
  // Sends signo. Safe to call after the process has exited.
  void signal(int signo);
  // Waits for exit at most timeout; returns the exit status (128+signal if killed) or nullopt.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // SIGKILL and reap.
  void kill();
  bool running();

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// A TCP port on 127.0.0.1 that was free a moment ago, and never one this process handed out before.
int free_port();

}  // namespace tickstream::test
