// tickstream-edge: holds client WebSocket connections and fans Redis pub/sub out to them.
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

  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  signals.start([&](int signo) {
    common::log_info("stopping", {{"signal", signo}});
    {
      std::lock_guard lock(mu);
      stop = true;
    }
    cv.notify_all();
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return stop; });
  }
  app.stop();
  common::log_info("stopped");
  return 0;
}
