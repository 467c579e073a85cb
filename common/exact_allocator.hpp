#pragma once
// A standard allocator that asks the system for exactly the size of each object. For an Asio
// operation that waits a long time (a connection's wait for its next message): the default, Asio's
// per-thread cache, hands it whatever block an earlier operation left there, however much larger,
// and a connection would hold that block for as long as it is idle.

#include <cstddef>
#include <new>

namespace tickstream::common {

template <class T>
class exact_allocator {
 public:
  using value_type = T;

  exact_allocator() noexcept = default;
  template <class U>
  exact_allocator(const exact_allocator<U>& /*other*/) noexcept {}  // NOLINT: rebinding

  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
  void deallocate(T* p, std::size_t /*n*/) noexcept { ::operator delete(p); }

  template <class U>
  bool operator==(const exact_allocator<U>& /*other*/) const noexcept {
    return true;
  }
};

}  // namespace tickstream::common
