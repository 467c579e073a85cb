#pragma once
// Waiting on a condition with a deadline: tests never sleep for a fixed time to wait for
// something to happen.

#include <chrono>
#include <thread>

namespace tickstream::test {

// Polls pred every few milliseconds until it holds (true) or timeout passes (false).
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace tickstream::test
