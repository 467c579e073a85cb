#include "edge/ops/admin_stats.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <numeric>

#include "edge/ops/worker_histogram.hpp"

namespace tickstream::edge {

std::string render_admin_stats(const admin_stats& s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  const auto count = [&w](std::size_t n) { w.Uint64(static_cast<std::uint64_t>(n)); };
  w.StartObject();
  w.Key("node");
  w.String(s.node.c_str(), static_cast<rapidjson::SizeType>(s.node.size()));
  w.Key("draining");
  w.Bool(s.draining);
  w.Key("connections");
  w.StartObject();
  w.Key("total");
  count(std::accumulate(s.connections_per_worker.begin(), s.connections_per_worker.end(), std::size_t{0}));
  w.Key("per_worker");
  w.StartArray();
  for (const auto n : s.connections_per_worker) count(n);
  w.EndArray();
  w.Key("top_users");
  w.StartArray();
  for (const auto& [user, n] : s.top_users) {  // user ids come from tokens: escaped by the writer
    w.StartObject();
    w.Key("user");
    w.String(user.c_str(), static_cast<rapidjson::SizeType>(user.size()));
    w.Key("connections");
    count(n);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.Key("subscriptions");
  w.StartObject();
  w.Key("total");
  count(s.subscriptions);
  w.Key("redis_channels");
  count(s.redis_channels);
  w.EndObject();
  w.Key("delivery_latency_seconds");
  w.StartObject();
  w.Key("window_seconds");
  w.Int(60);
  w.Key("samples");
  w.Uint64(std::accumulate(s.latency_window.begin(), s.latency_window.end(), std::uint64_t{0}));
  for (const auto& [name, q] : {std::pair{"p50", 0.50}, {"p95", 0.95}, {"p99", 0.99}}) {
    w.Key(name);
    w.Double(worker_histogram::quantile(s.latency_bounds, s.latency_window, q));
  }
  w.EndObject();
  w.Key("disconnects");
  w.StartObject();
  w.Key("last_minute");
  count(s.disconnects_last_minute);
  w.Key("per_second");
  w.Double(static_cast<double>(s.disconnects_last_minute) / 60.0);
  w.EndObject();
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace tickstream::edge
