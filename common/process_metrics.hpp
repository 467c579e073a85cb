#pragma once
// The process's own metrics in the Prometheus conventions (process_* as the client libraries of
// other languages export them) and tickstream_build_info, read from /proc at scrape time.

#include <prometheus/metric_family.h>

#include <vector>

namespace tickstream::common {

// process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_max_fds, process_start_time_seconds, and
// tickstream_build_info{version,revision} = 1.
std::vector<prometheus::MetricFamily> process_metric_families();

}  // namespace tickstream::common
