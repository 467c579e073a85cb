#pragma once
// One call into worker code that must not stop the rest of its turn: worker handlers do not throw,
// by design; one that does is logged with what and the worker's id, and the turn goes on (the next
// message, the next session, the next read from Redis).

#include <cstddef>
#include <exception>
#include <utility>

#include "common/log.hpp"

namespace tickstream::edge {

template <class Fn>
void guarded_call(std::size_t worker, const char* what, Fn&& fn) {
  try {
    std::forward<Fn>(fn)();
  } catch (const std::exception& e) {
    common::log_error(what, {{"worker", worker}, {"what", e.what()}});
  }
}

}  // namespace tickstream::edge
