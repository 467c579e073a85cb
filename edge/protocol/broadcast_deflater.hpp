#pragma once
// permessage-deflate with context takeover for broadcast channels (ticks, public topics): one
// compression context per channel, whose output is shared by every connection that has taken the
// channel's messages without a gap. A trading feed repeats itself from one message to the next
// (the same keys, the same symbol, nearly the same prices), so a tick compressed against the
// channel's recent ticks is a fraction of one compressed alone (about 0.16 against 0.70 of its
// size for the bundled capture), and it is still compressed once, whatever the number of clients.
//
// How the contexts stay right for every client: a client's inflater holds the text of every
// compressed message it was sent, and a channel's context may refer back only into the messages
// of its own stream. So a stream restarts (its context is reset) every restart_every messages; a
// connection that takes a stream's first message, and then each next one with no other compressed
// message in between, is in step with it and is sent the stream's bytes (frame::wire_for keeps
// that account per connection, in a deflate_cursor). Any other connection (one that joined
// mid-stream, one subscribed to several channels, one whose queue dropped or conflated a tick) is
// sent the message compressed alone until the stream next restarts.
//
// Memory: a context keeps a 4 KiB window (about 15 ticks; a larger one gains little, see
// docs/BENCHMARKS.md) and costs about 40 KiB; at most max_contexts exist, and a context unused
// through a sweep period is freed. A channel that finds the cap reached goes without (its messages
// are compressed alone).
//
// Threading: compress() on one thread (the fan-out's); add_taker()/remove_taker() from any.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "edge/protocol/frame.hpp"

namespace tickstream::edge {

class broadcast_deflater {
 public:
  struct options {
    std::size_t max_contexts = 256;
    std::uint32_t restart_every = 32;  // messages per stream: how long a joining client waits at most
    std::uint32_t sweep_every = 8192;  // compressions between sweeps of unused contexts
  };

  explicit broadcast_deflater(options o);
  broadcast_deflater() : broadcast_deflater(options{}) {}
  ~broadcast_deflater();
  broadcast_deflater(const broadcast_deflater&) = delete;
  broadcast_deflater& operator=(const broadcast_deflater&) = delete;

  // Compresses f's payload as the next message of channel's stream and stores the result in f
  // (frame::set_stream). Does nothing when no connection can take streams, when the payload is
  // under threshold bytes or f is not a data frame, or when channel has no context and the cap is
  // reached: f then goes to compressing clients compressed alone.
  void compress(std::string_view channel, frame& f, std::size_t threshold);

  // Connections that agreed context takeover (they can take streams). With none, compress() does
  // nothing at all.
  void add_taker() noexcept { takers_.fetch_add(1, std::memory_order_relaxed); }
  void remove_taker() noexcept { takers_.fetch_sub(1, std::memory_order_relaxed); }

  std::size_t contexts() const noexcept { return contexts_.size(); }

 private:
  struct context;
  struct name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  context* context_for(std::string_view channel);
  void sweep();

  const options options_;
  std::atomic<std::size_t> takers_{0};
  std::unordered_map<std::string, std::unique_ptr<context>, name_hash, std::equal_to<>> contexts_;
  std::uint64_t next_stream_ = 1;  // stream ids: 0 means none (deflate_cursor)
  std::uint64_t compressed_ = 0;   // messages compressed, for the sweep
  std::uint64_t swept_at_ = 0;     // compressed_ at the last sweep
};

}  // namespace tickstream::edge
