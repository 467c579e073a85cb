// tickstream-watch: subscribes to symbols and prints every frame the edge sends, one per line.
#include <chrono>
#include <cstdio>
#include <string>

#include "bench/ws_client.hpp"
#include "common/config_parser.hpp"

int main(int argc, char** argv) {
  using namespace tickstream;
  std::string url = "ws://127.0.0.1:8080/ws";
  std::string symbols = "AAPL,MSFT,NVDA";
  std::int64_t count = 0;
  std::int64_t seconds = 0;
  common::config_parser parser("tickstream-watch", "Prints the frames a Tickstream edge sends for some symbols.");
  parser.add_string("url", "TS_URL", url, "WebSocket URL of an edge or the load balancer.");
  parser.add_string("symbols", "TS_SYMBOLS", symbols, "Comma-separated symbols to subscribe to.");
  parser.add_int("count", "", count, 0, 1'000'000'000, "Exit after this many frames (0: never).");
  parser.add_int("seconds", "", seconds, 0, 86'400, "Exit after this many seconds (0: never).");
  parser.parse_or_exit(argc, argv);

  auto parsed = client::ws_url::parse(url);
  if (!parsed) {
    std::fprintf(stderr, "tickstream-watch: --url: %s\n", parsed.err().message.c_str());
    return 2;
  }
  auto conn = client::ws_client::connect(*parsed, std::chrono::seconds(5));
  if (!conn) {
    std::fprintf(stderr, "tickstream-watch: cannot connect to %s: %s\n", url.c_str(), conn.err().message.c_str());
    return 1;
  }
  auto& ws = *conn.value();
  std::fprintf(stderr, "tickstream-watch: connected to %s (edge node %s)\n", url.c_str(),
               ws.node().empty() ? "unknown" : ws.node().c_str());
  std::string list;
  for (std::size_t start = 0; start <= symbols.size();) {
    auto end = symbols.find(',', start);
    if (end == std::string::npos) end = symbols.size();
    if (end > start) list += (list.empty() ? "\"" : ",\"") + symbols.substr(start, end - start) + "\"";
    start = end + 1;
  }
  ws.send("{\"type\":\"subscribe\",\"symbols\":[" + list + "]}");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  for (std::int64_t n = 0; count == 0 || n < count; ++n) {
    auto frame = ws.next(std::chrono::milliseconds(500));
    while (!frame && !ws.closed() && (seconds == 0 || std::chrono::steady_clock::now() < deadline)) {
      frame = ws.next(std::chrono::milliseconds(500));
    }
    if (!frame) break;
    std::printf("%s\n", frame->c_str());
    std::fflush(stdout);
  }
  if (ws.closed()) {
    std::fprintf(stderr, "tickstream-watch: server closed the connection (code %u)\n", ws.close_code());
    return 1;
  }
  ws.close();
  return 0;
}
