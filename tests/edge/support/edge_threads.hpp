#pragma once
// The edge's worker count in tests that do not test a particular one: 2, or
// TICKSTREAM_TEST_EDGE_THREADS (e.g. 1: every such test with the Redis connections on the one
// worker's event loop instead of a Redis thread of their own).

#include <cstdlib>

namespace tickstream::test {

inline int edge_threads() {
  const char* env = std::getenv("TICKSTREAM_TEST_EDGE_THREADS");
  return env != nullptr && *env != '\0' ? std::atoi(env) : 2;
}

}  // namespace tickstream::test
