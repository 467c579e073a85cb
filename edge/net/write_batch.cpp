#include "edge/net/write_batch.hpp"

namespace tickstream::edge {

std::span<const boost::asio::const_buffer> write_batch::take(outbound_queue& q, deflate_mode deflate,
                                                             std::size_t deflate_threshold, deflate_cursor& cursor) {
  q.take(frames_, max_frames, max_bytes);
  buffers_.clear();
  first_unsent_ = 0;
  bytes_ = 0;
  for (const auto& f : frames_) {
    const auto& wire = f->wire_for(deflate, deflate_threshold, cursor);
    bytes_ += wire.size();
    buffers_.push_back(boost::asio::buffer(wire));
  }
  return buffers_;
}

std::span<const boost::asio::const_buffer> write_batch::consume(std::size_t sent) noexcept {
  while (first_unsent_ < buffers_.size() && sent >= buffers_[first_unsent_].size()) {
    sent -= buffers_[first_unsent_].size();
    ++first_unsent_;
  }
  if (first_unsent_ < buffers_.size()) buffers_[first_unsent_] += sent;
  return std::span<const boost::asio::const_buffer>(buffers_).subspan(first_unsent_);
}

}  // namespace tickstream::edge
