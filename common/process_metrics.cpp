#include "common/process_metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "common/build_info.hpp"

namespace tickstream::common {
namespace {

prometheus::MetricFamily family(const char* name, const char* help, prometheus::MetricType type, double value) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
  return f;
}

double open_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  double n = 0;
  while (const auto* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n - 1;  // less the descriptor of the listing itself
}

double boot_time_s() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

}  // namespace

std::vector<prometheus::MetricFamily> process_metric_families() {
  using type = prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  const auto ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const auto page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  // /proc/self/stat: after the command in parentheses, field 14 utime, 15 stime, 22 starttime,
  // 23 vsize, 24 rss (pages).
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), {});
  const auto close_paren = stat.rfind(')');
  if (close_paren != std::string::npos) {
    std::istringstream fields(stat.substr(close_paren + 2));
    std::vector<std::string> f;
    for (std::string x; fields >> x;) f.push_back(x);
    // f[0] is field 3 (state).
    const auto at = [&f](std::size_t field) { return field - 3 < f.size() ? std::stod(f[field - 3]) : 0.0; };
    out.push_back(family("process_cpu_seconds_total", "User and system CPU time spent, in seconds", type::Counter,
                         (at(14) + at(15)) / ticks));
    out.push_back(family("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds",
                         type::Gauge, boot_time_s() + at(22) / ticks));
    out.push_back(family("process_virtual_memory_bytes", "Virtual memory size, in bytes", type::Gauge, at(23)));
    out.push_back(
        family("process_resident_memory_bytes", "Resident memory size, in bytes", type::Gauge, at(24) * page));
  }
  out.push_back(family("process_open_fds", "Open file descriptors", type::Gauge, open_fds()));
  rlimit lim{};
  const double max_fds = ::getrlimit(RLIMIT_NOFILE, &lim) == 0 ? static_cast<double>(lim.rlim_cur) : -1;
  out.push_back(family("process_max_fds", "The limit on open file descriptors", type::Gauge, max_fds));
  auto build = family("tickstream_build_info", "The version and revision this process was built from (always 1)",
                      type::Gauge, 1);
  build.metric.front().label = {{"version", build_version}, {"revision", build_revision}};
  out.push_back(std::move(build));
  return out;
}

}  // namespace tickstream::common
