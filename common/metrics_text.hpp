#pragma once
// Prometheus text exposition of a prometheus-cpp registry, for serving /metrics on our own port.

#include <prometheus/registry.h>

#include <string>

namespace tickstream::common {

std::string render_metrics(prometheus::Registry& registry);

}  // namespace tickstream::common
