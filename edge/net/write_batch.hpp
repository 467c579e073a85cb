#pragma once
// The frames of one gathered write (one writev): taken from a connection's queue, each as the
// bytes this connection gets (compressed or plain, shared with every other connection sending the
// frame), and kept alive until the write completes.
//
// Threading: owned by one session, used on its worker thread only.

#include <boost/asio/buffer.hpp>

#include <cstddef>
#include <span>
#include <vector>

#include "edge/fanout/outbound_queue.hpp"
#include "edge/protocol/frame.hpp"

namespace tickstream::edge {

class write_batch {
 public:
  // Frames per gathered write: Asio hands at most 64 buffers to one writev().
  static constexpr std::size_t max_frames = 64;
  static constexpr std::size_t max_bytes = 512 * 1024;

  // Moves the next frames out of q (deflate: as the connection negotiated permessage-deflate;
  // frames of at least deflate_threshold bytes go compressed, and cursor follows the broadcast
  // streams) and returns the buffers to write, valid until the next take(). A span, not the
  // vector: the write operation copies its buffer sequence, and a vector's copy is an allocation
  // per write.
  std::span<const boost::asio::const_buffer> take(outbound_queue& q, deflate_mode deflate,
                                                  std::size_t deflate_threshold, deflate_cursor& cursor);
  // The first sent bytes of the batch are written: returns the buffers still to write (the
  // buffer written in part starts where the write ended). Valid until the next take().
  std::span<const boost::asio::const_buffer> consume(std::size_t sent) noexcept;
  // The write completed or failed: the frames are released.
  void clear() noexcept { frames_.clear(); }

  const std::vector<frame_ptr>& frames() const noexcept { return frames_; }
  // The bytes of the last batch taken.
  std::size_t bytes() const noexcept { return bytes_; }

 private:
  std::vector<frame_ptr> frames_;
  std::vector<boost::asio::const_buffer> buffers_;
  std::size_t first_unsent_ = 0;  // in buffers_, after consume()
  std::size_t bytes_ = 0;
};

}  // namespace tickstream::edge
