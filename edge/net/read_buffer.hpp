#pragma once
// A connection's read buffer: no storage while it holds nothing (an idle connection waits for its
// socket to be readable without one), small for the usual message, grown for a large message up to
// the largest frame accepted, shrunk back once drained. Pure (no socket).

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string_view>
#include <vector>

namespace tickstream::edge {

class read_buffer {
 public:
  // small: the idle size; limit: the largest frame with its header.
  read_buffer(std::size_t small, std::size_t limit) : small_(small), limit_(limit) {}

  // Starts with bytes already received (after the upgrade request).
  void assign(std::string_view bytes) {
    len_ = 0;
    if (bytes.empty()) return;
    buf_.resize(std::max(small_, bytes.size() * 2));
    std::memcpy(buf_.data(), bytes.data(), bytes.size());
    len_ = bytes.size();
  }
  // Room for the next read; false when the buffer is full at the limit (cannot happen with a
  // parser that refuses longer frames from their header).
  bool make_room() {
    if (len_ < buf_.size()) return true;
    if (buf_.empty()) {
      buf_.resize(small_);
      return true;
    }
    buf_.resize(std::max(buf_.size(), std::min(buf_.size() * 2, limit_)));
    return len_ < buf_.size();
  }
  char* space() noexcept { return buf_.data() + len_; }
  std::size_t space_size() const noexcept { return buf_.size() - len_; }
  void commit(std::size_t n) noexcept { len_ += n; }

  char* data() noexcept { return buf_.data(); }  // the parser unmasks in place
  std::size_t size() const noexcept { return len_; }
  // Drops the first n bytes (parsed); back to the small size once empty after a large message.
  void consume(std::size_t n) {
    if (n == 0) return;  // (an empty buffer may have no storage: no memmove from null)
    std::memmove(buf_.data(), buf_.data() + n, len_ - n);
    len_ -= n;
    if (len_ == 0 && buf_.size() > 8 * small_) std::vector<char>(small_).swap(buf_);
  }
  void clear() { consume(len_); }
  // Gives the storage back when nothing is buffered (the next make_room() allocates it again).
  void release() noexcept {
    if (len_ == 0) std::vector<char>().swap(buf_);
  }
  std::size_t capacity() const noexcept { return buf_.size(); }

 private:
  const std::size_t small_;
  const std::size_t limit_;
  std::vector<char> buf_;
  std::size_t len_ = 0;
};

}  // namespace tickstream::edge
