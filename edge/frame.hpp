#pragma once
// One outbound WebSocket text frame, built once and shared by every session that sends it.

#include <memory>
#include <string>

namespace tickstream::edge {

struct frame {
  std::string key;    // what the frame is about (a symbol for ticks; empty for control replies)
  std::string bytes;  // the exact text sent to clients
};

// Immutable once built: sessions on any worker thread may hold and send it concurrently.
using frame_ptr = std::shared_ptr<const frame>;

inline frame_ptr make_frame(std::string key, std::string bytes) {
  return std::make_shared<const frame>(frame{std::move(key), std::move(bytes)});
}

}  // namespace tickstream::edge
