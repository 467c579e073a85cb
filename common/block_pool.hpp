#pragma once
// Memory for short-lived objects of one thread that come and go by the thousand, such as the
// operation of each write a fan-out starts: fixed-size blocks kept on a free list and handed out
// again, so a steady stream of them costs no allocation. At most `max_free` blocks are kept;
// beyond that (and for anything larger than a block) memory goes back to the system, and trim()
// lets go of what the last period did not need. Pure and single-threaded; `block_allocator`
// lets an Asio handler take its operation's memory from it.

#include <cstddef>
#include <new>

namespace tickstream::common {

class block_pool {
 public:
  block_pool(std::size_t block_size, std::size_t max_free) noexcept
      : block_size_(block_size < sizeof(node) ? sizeof(node) : block_size), max_free_(max_free) {}
  ~block_pool() {
    while (free_ != nullptr) ::operator delete(pop());
  }
  block_pool(const block_pool&) = delete;
  block_pool& operator=(const block_pool&) = delete;

  void* allocate(std::size_t size) {
    if (size > block_size_) return ::operator new(size);
    void* p = free_ != nullptr ? pop() : ::operator new(block_size_);  // counted once it is had
    if (++in_use_ > peak_in_use_) peak_in_use_ = in_use_;
    return p;
  }

  void deallocate(void* p, std::size_t size) noexcept {
    if (size > block_size_) return ::operator delete(p);
    --in_use_;
    if (free_count_ >= max_free_) return ::operator delete(p);
    free_ = ::new (p) node{free_};
    ++free_count_;
  }

  // Keeps only as many free blocks as were in use at once since the last trim (the blocks the
  // next such peak needs), and returns the rest to the system: a burst (thousands of connections
  // answered at once) does not hold its memory for good. Called periodically.
  void trim() noexcept {
    while (free_count_ > peak_in_use_) ::operator delete(pop());
    peak_in_use_ = in_use_;
  }

  std::size_t free_blocks() const noexcept { return free_count_; }
  std::size_t blocks_in_use() const noexcept { return in_use_; }

 private:
  struct node {
    node* next;
  };

  void* pop() noexcept {
    node* n = free_;
    free_ = n->next;
    --free_count_;
    return n;
  }

  const std::size_t block_size_;
  const std::size_t max_free_;
  node* free_ = nullptr;
  std::size_t free_count_ = 0;
  std::size_t in_use_ = 0;       // blocks handed out and not yet given back
  std::size_t peak_in_use_ = 0;  // the most at once since the last trim
};

// A standard allocator over a block_pool (which must outlive every object it allocates). Asio
// rebinds it to each operation type it allocates for a handler bound to it.
template <class T>
class block_allocator {
 public:
  using value_type = T;

  explicit block_allocator(block_pool& pool) noexcept : pool_(&pool) {}
  template <class U>
  block_allocator(const block_allocator<U>& other) noexcept : pool_(other.pool()) {}  // NOLINT: rebinding

  T* allocate(std::size_t n) {
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__, "blocks have operator new's alignment");
    return static_cast<T*>(pool_->allocate(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { pool_->deallocate(p, n * sizeof(T)); }

  block_pool* pool() const noexcept { return pool_; }
  template <class U>
  bool operator==(const block_allocator<U>& other) const noexcept {
    return pool_ == other.pool();
  }

 private:
  block_pool* pool_;
};

}  // namespace tickstream::common
