#pragma once
// GET /api/admin/websocket-stats (docs/OPERATIONS.md): what one edge holds, as JSON. Pure: the
// app gathers the figures, this renders them.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tickstream::edge {

struct admin_stats {
  std::string node;
  bool draining = false;
  std::vector<std::size_t> connections_per_worker;
  std::vector<std::pair<std::string, std::size_t>> top_users;  // most connections first
  std::size_t subscriptions = 0;                               // (connection, symbol or private stream) pairs
  std::size_t redis_channels = 0;                              // channels this edge holds in Redis
  // Delivery latency over the last minute: histogram bounds (seconds) and per-bucket counts.
  std::vector<double> latency_bounds;
  std::vector<std::uint64_t> latency_window;
  std::size_t disconnects_last_minute = 0;
};

std::string render_admin_stats(const admin_stats& s);

}  // namespace tickstream::edge
