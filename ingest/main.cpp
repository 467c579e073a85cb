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
  common::start_logging(parser, "ingest", config.log_level);

  ingest::app app(config);
  signals.start([&app](int signo) {
    common::log_info("stopping", {{"signal", signo}});
    app.stop();
  });
  return app.run();
}
