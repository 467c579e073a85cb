// tickstream-edge: holds client WebSocket connections and fans Redis pub/sub out to them.
#include <cstdio>

#include "common/config_parser.hpp"
#include "common/log.hpp"
#include "common/stop_signal.hpp"
#include "edge/app.hpp"

int main(int argc, char** argv) {
  using namespace tickstream;
  common::stop_signal signals;  // before any thread starts
  edge::app_config config;
  common::config_parser parser("tickstream-edge",
                               "Serves market ticks and portfolio streams from Redis to WebSocket clients.");
  config.bind(parser);
  parser.parse_or_exit(argc, argv);
  common::start_logging(parser, "edge", config.log_level);
  auto app = edge::app::make(std::move(config));
  if (!app) {
    std::fprintf(stderr, "tickstream-edge: --%s: %s\n", app.err().code.c_str(), app.err().message.c_str());
    return 2;
  }
  return app.value()->run(signals);
}
