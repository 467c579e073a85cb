#include "edge/ops/edge_metrics.hpp"

#include <prometheus/histogram.h>
#include <prometheus/text_serializer.h>

#include <limits>

#include "common/process_metrics.hpp"

namespace tickstream::edge {
namespace {

prometheus::Family<prometheus::Counter>& counter_family(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

prometheus::Family<prometheus::Gauge>& gauge_family(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

}  // namespace

edge_metrics::edge_metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      connections(gauge_family(*registry_, "tickstream_edge_connections", "Open WebSocket connections").Add({})),
      connections_accepted(
          counter_family(*registry_, "tickstream_edge_connections_accepted_total", "WebSocket handshakes completed")
              .Add({})),
      compressed_connections(counter_family(*registry_, "tickstream_edge_compressed_connections_total",
                                            "WebSocket handshakes completed with permessage-deflate")
                                 .Add({})),
      redis_messages(
          counter_family(*registry_, "tickstream_edge_redis_messages_total", "Pub/sub messages received from Redis")
              .Add({})),
      redis_channels(
          gauge_family(*registry_, "tickstream_edge_redis_channels", "Redis channels this edge is subscribed to")
              .Add({})),
      client_errors_(counter_family(*registry_, "tickstream_edge_client_errors_total",
                                    "Bad client messages, by the error code sent back")),
      upstream_invalid_(counter_family(*registry_, "tickstream_edge_upstream_invalid_total",
                                       "Messages from Redis dropped as unusable, by reason")),
      disconnects_(counter_family(*registry_, "tickstream_edge_disconnects_total", "Connections closed, by reason")),
      rejected_upgrades_(counter_family(*registry_, "tickstream_edge_rejected_upgrades_total",
                                        "HTTP requests refused instead of upgraded, by reason")),
      private_stream_(counter_family(*registry_, "tickstream_edge_private_stream_events_total",
                                     "Private-stream bookkeeping: snapshots, replayed events, gaps filled, "
                                     "duplicates dropped, resyncs")),
      source_transitions_(counter_family(*registry_, "tickstream_edge_source_transitions_total",
                                         "Sources seen going stale or fresh again")),
      rest_requests_(counter_family(*registry_, "tickstream_edge_rest_requests_total",
                                    "REST fallback requests, by endpoint and status code")),
      // From a second (a refusal, a failed handshake) to a trading day and beyond.
      connection_durations_(prometheus::BuildHistogram()
                                .Name("tickstream_edge_connection_duration_seconds")
                                .Help("How long WebSocket connections lasted, observed when they end")
                                .Register(*registry_)
                                .Add({}, prometheus::Histogram::BucketBoundaries{1, 10, 60, 300, 900, 1800, 3600,
                                                                                 4 * 3600, 8 * 3600, 24 * 3600})) {}

void edge_metrics::connection_opened(bool compressed) {
  connections.Increment();
  connections_accepted.Increment();
  if (compressed) compressed_connections.Increment();
}

void edge_metrics::connection_closed(const std::string& reason, double seconds) {
  connections.Decrement();
  disconnect(reason);
  connection_durations_.Observe(seconds);
}

void edge_metrics::add_external_counter(external_counter c) { external_.push_back(std::move(c)); }
void edge_metrics::add_external_gauge(external_counter g) { external_gauges_.push_back(std::move(g)); }
void edge_metrics::add_external_histogram(external_histogram h) { external_histograms_.push_back(std::move(h)); }

std::string edge_metrics::render() const {
  auto families = registry_->Collect();
  const auto scalar = [&families](const external_counter& c, prometheus::MetricType type) {
    prometheus::MetricFamily f;
    f.name = c.name;
    f.help = c.help;
    f.type = type;
    prometheus::ClientMetric m;
    (type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value) = c.read();
    f.metric.push_back(std::move(m));
    families.push_back(std::move(f));
  };
  for (const auto& c : external_) scalar(c, prometheus::MetricType::Counter);
  for (const auto& g : external_gauges_) scalar(g, prometheus::MetricType::Gauge);
  for (const auto& h : external_histograms_) {
    std::vector<std::uint64_t> buckets;
    double sum = 0;
    std::uint64_t count = 0;
    h.read(buckets, sum, count);
    buckets.resize(h.bounds.size() + 1, 0);
    prometheus::MetricFamily f;
    f.name = h.name;
    f.help = h.help;
    f.type = prometheus::MetricType::Histogram;
    prometheus::ClientMetric m;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= h.bounds.size(); ++i) {
      cumulative += buckets[i];
      prometheus::ClientMetric::Bucket b;
      b.cumulative_count = cumulative;
      b.upper_bound = i < h.bounds.size() ? h.bounds[i] : std::numeric_limits<double>::infinity();
      m.histogram.bucket.push_back(b);
    }
    m.histogram.sample_count = cumulative;  // consistent with the buckets read just now
    m.histogram.sample_sum = sum;
    f.metric.push_back(std::move(m));
    families.push_back(std::move(f));
  }
  for (auto& f : common::process_metric_families()) families.push_back(std::move(f));
  return prometheus::TextSerializer().Serialize(families);
}

void edge_metrics::client_error(const std::string& code) { client_errors_.Add({{"code", code}}).Increment(); }
void edge_metrics::upstream_invalid(const std::string& reason) {
  upstream_invalid_.Add({{"reason", reason}}).Increment();
}
void edge_metrics::disconnect(const std::string& reason) { disconnects_.Add({{"reason", reason}}).Increment(); }
void edge_metrics::rejected_upgrade(const std::string& reason) {
  rejected_upgrades_.Add({{"reason", reason}}).Increment();
}

void edge_metrics::private_stream(const std::string& what, double n) {
  private_stream_.Add({{"event", what}}).Increment(n);
}
void edge_metrics::source_transition(const std::string& source, bool stale) {
  source_transitions_.Add({{"source", source}, {"to", stale ? "stale" : "fresh"}}).Increment();
}
void edge_metrics::rest_request(const std::string& endpoint, int status) {
  rest_requests_.Add({{"endpoint", endpoint}, {"code", std::to_string(status)}}).Increment();
}

}  // namespace tickstream::edge
