#pragma once
// The edge's Prometheus metrics (docs/OPERATIONS.md lists them). Counters that change per message
// are plain per-worker atomics summed at scrape time, so the fan-out path never contends on a
// shared cache line; rarer events use prometheus-cpp counters directly.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <prometheus/collectable.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tickstream::edge {

class edge_metrics {
  // Declared first: the public metric references below are built from it.
  std::shared_ptr<prometheus::Registry> registry_;

 public:
  edge_metrics();

  // Counters kept elsewhere (per-worker atomics), read at scrape time. Call before serving.
  struct external_counter {
    std::string name;
    std::string help;
    std::function<double()> read;
  };
  void add_external_counter(external_counter c);
  // The same for gauges read at scrape time.
  void add_external_gauge(external_counter g);
  // Histograms kept elsewhere: read adds per-bucket counts (size bounds + 1, not cumulative), sum
  // and count.
  struct external_histogram {
    std::string name;
    std::string help;
    std::vector<double> bounds;
    std::function<void(std::vector<std::uint64_t>& buckets, double& sum, std::uint64_t& count)> read;
  };
  void add_external_histogram(external_histogram h);
  // The Prometheus text exposition of everything.
  std::string render() const;

  // Client-caused errors, by the error code sent to the client.
  void client_error(const std::string& code);
  // Messages from Redis the edge could not use, by reason.
  void upstream_invalid(const std::string& reason);
  // A connection ended, by reason.
  void disconnect(const std::string& reason);
  // A request was refused before/at the upgrade, by reason.
  void rejected_upgrade(const std::string& reason);
  // Private-stream bookkeeping, by what happened: snapshot, replayed (an event from the history),
  // gap (a seq missing on the Redis side), duplicate, resync_truncated, resync_reset.
  void private_stream(const std::string& what, double n = 1);
  // A source went stale (or fresh again).
  void source_transition(const std::string& source, bool stale);
  // A REST request answered, by endpoint and status code.
  void rest_request(const std::string& endpoint, int status);
  // A WebSocket connection opened (its handshake completed); compressed: permessage-deflate.
  void connection_opened(bool compressed);
  // It ended after this long, by reason (once per connection: lock-free).
  void connection_closed(const std::string& reason, double seconds);

  prometheus::Gauge& connections;               // open WebSocket connections
  prometheus::Counter& connections_accepted;    // WebSocket handshakes completed
  prometheus::Counter& compressed_connections;  // of those, with permessage-deflate
  prometheus::Counter& redis_messages;          // pub/sub messages received
  prometheus::Gauge& redis_channels;            // channels this edge holds in Redis

 private:
  prometheus::Family<prometheus::Counter>& client_errors_;
  prometheus::Family<prometheus::Counter>& upstream_invalid_;
  prometheus::Family<prometheus::Counter>& disconnects_;
  prometheus::Family<prometheus::Counter>& rejected_upgrades_;
  prometheus::Family<prometheus::Counter>& private_stream_;
  prometheus::Family<prometheus::Counter>& source_transitions_;
  prometheus::Family<prometheus::Counter>& rest_requests_;
  prometheus::Histogram& connection_durations_;
  std::vector<external_counter> external_;
  std::vector<external_counter> external_gauges_;
  std::vector<external_histogram> external_histograms_;
};

}  // namespace tickstream::edge
