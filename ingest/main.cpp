// tickstream-ingest: normalizes source events and publishes them to Redis.
#include "common/config_parser.hpp"
#include "common/log.hpp"
#include "common/stop_signal.hpp"
#include "ingest/app.hpp"

int main(int argc, char** argv) {
  using namespace tickstream;
  common::stop_signal signals;  // before any thread starts
  ingest::app_config config;
  common::config_parser parser("tickstream-ingest", "Replays a JSONL tick capture into Redis for the edge tier.");
  config.bind(parser);
  parser.parse_or_exit(argc, argv);
  common::set_log_component("ingest");
  common::log_level level{};
  common::parse_log_level(config.log_level, level);
  common::set_log_level(level);
  common::log_effective_config(parser);

  ingest::app app(config);
  signals.start([&app](int signo) {
    common::log_info("stopping", {{"signal", signo}});
    app.stop();
  });
  return app.run();
}
