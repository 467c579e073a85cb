// tickstream-edge: holds client WebSocket connections and fans Redis pub/sub out to them.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <system_error>

#include "common/config_parser.hpp"
#include "common/log.hpp"
#include "common/stop_signal.hpp"
#include "edge/app.hpp"

int main(int argc, char** argv) {
  using namespace tickstream;
  common::stop_signal signals;  // before any thread starts
  edge::app_config config;
  common::config_parser parser("tickstream-edge", "Serves market ticks from Redis to WebSocket clients.");
  config.bind(parser);
  parser.parse_or_exit(argc, argv);
  common::start_logging(parser, "edge", config.log_level);

  std::unique_ptr<edge::app> app_ptr;
  try {
    app_ptr = std::make_unique<edge::app>(config);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "tickstream-edge: %s\n", e.what());
    return 2;
  }
  auto& app = *app_ptr;
  try {
    app.start();
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "tickstream-edge: --listen-host/--port: cannot listen on %s:%lld: %s\n",
                 config.listen_host.c_str(), static_cast<long long>(config.port), e.what());
    return 2;
  }

  // SIGTERM or SIGINT: drain (clients are told to reconnect and closed over --drain-ms), then
  // stop once they are gone. A second signal stops at once.
  std::mutex mu;
  std::condition_variable cv;
  int signals_seen = 0;
  signals.start([&](int signo) {
    common::log_info(signals_seen == 0 ? "draining on signal" : "stopping now on second signal", {{"signal", signo}});
    {
      std::lock_guard lock(mu);
      ++signals_seen;
    }
    cv.notify_all();
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return signals_seen > 0; });
  }
  app.drain();
  // The last clients close at the end of the window; their close handshakes take a moment more.
  const auto deadline = std::chrono::steady_clock::now() + app.drain_window() + std::chrono::seconds(2);
  {
    std::unique_lock lock(mu);
    while (signals_seen < 2 && app.connection_count() > 0 && std::chrono::steady_clock::now() < deadline) {
      cv.wait_for(lock, std::chrono::milliseconds(50));
    }
  }
  common::log_info("drained", {{"connections_left", app.connection_count()}});
  app.stop();
  common::log_info("stopped");
  return 0;
}
