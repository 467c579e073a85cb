#include "common/stop_signal.hpp"

#include <pthread.h>
#include <signal.h>

namespace tickstream::common {
namespace {

sigset_t stop_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);  // used only to wake the waiter at destruction
  return set;
}

}  // namespace

stop_signal::stop_signal() {
  const sigset_t set = stop_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

stop_signal::~stop_signal() {
  if (thread_.joinable()) {
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }
}

void stop_signal::start(std::function<void(int)> on_signal) {
  thread_ = std::thread([cb = std::move(on_signal)] {
    const sigset_t set = stop_set();
    for (;;) {
      int signo = 0;
      if (sigwait(&set, &signo) != 0) continue;
      if (signo == SIGUSR1) return;
      cb(signo);
    }
  });
}

}  // namespace tickstream::common
