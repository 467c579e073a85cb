#pragma once
// SIGINT/SIGTERM handling without async-signal-safety traps: the signals are blocked in every
// thread and one dedicated thread waits for them with sigwait() and calls an ordinary callback.

#include <functional>
#include <thread>

namespace tickstream::common {

class stop_signal {
 public:
  // Blocks SIGINT and SIGTERM for the calling thread and every thread it starts afterwards, so
  // construct this in main() before any other thread exists.
  stop_signal();
  ~stop_signal();
  stop_signal(const stop_signal&) = delete;
  stop_signal& operator=(const stop_signal&) = delete;

  // Starts the waiting thread; on_signal(signo) runs on it for every SIGINT/SIGTERM received.
  void start(std::function<void(int)> on_signal);

 private:
  std::thread thread_;
};

}  // namespace tickstream::common
