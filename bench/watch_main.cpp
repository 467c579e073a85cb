// tickstream-watch: subscribes to symbols (and, authenticated, to the user's private channels) and
// prints every frame the edge sends, one per line.
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "bench/ws_client.hpp"
#include "bench/ws_client_tls.hpp"
#include "common/config_parser.hpp"

namespace {

// "a,b" -> "\"a\",\"b\"" (a JSON list's inside).
std::string json_list(const std::string& csv) {
  std::string out;
  for (std::size_t start = 0; start <= csv.size();) {
    auto end = csv.find(',', start);
    if (end == std::string::npos) end = csv.size();
    if (end > start) out += (out.empty() ? "\"" : ",\"") + csv.substr(start, end - start) + "\"";
    start = end + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tickstream;
  std::string url = "ws://127.0.0.1:8080/ws";
  std::string symbols = "AAPL,MSFT,NVDA";
  std::string channels;
  std::string token;
  std::string cookie;
  std::string origin;
  std::string ca_file;
  bool insecure = false;
  bool timestamps = false;
  std::int64_t count = 0;
  std::int64_t seconds = 0;
  common::config_parser parser("tickstream-watch", "Prints the frames a Tickstream edge sends for some symbols.");
  parser.add_string("url", "TS_URL", url, "WebSocket URL of an edge or the load balancer (ws:// or wss://).");
  parser.add_string("symbols", "TS_SYMBOLS", symbols, "Comma-separated symbols to subscribe to.");
  parser.add_string("channels", "TS_CHANNELS", channels,
                    "Comma-separated private channels (positions, orders, account, trades); needs credentials.");
  parser.add_secret("token", "TS_TOKEN", token, "A JWT, sent as Authorization: Bearer <token>.");
  parser.add_secret("cookie", "TS_COOKIE", cookie, "A Cookie header to send, e.g. ts_session=<id>.");
  parser.add_string("origin", "TS_ORIGIN", origin, "An Origin header to send (cookie credentials need one).");
  parser.add_string("ca-file", "TS_CA_FILE", ca_file, "wss://: a PEM bundle to trust instead of the system's.");
  parser.add_bool("insecure", "", insecure, "wss://: do not verify the server's certificate (testing only).");
  parser.add_bool("timestamps", "", timestamps,
                  "Start each line with the frame's receive time (microseconds since the epoch) and a blank.");
  parser.add_int("count", "", count, 0, 1'000'000'000, "Exit after this many frames (0: never).");
  parser.add_int("seconds", "", seconds, 0, 86'400, "Exit after this many seconds (0: never).");
  parser.parse_or_exit(argc, argv);

  auto parsed = client::ws_url::parse(url);
  if (!parsed) {
    std::fprintf(stderr, "tickstream-watch: --url: %s\n", parsed.err().message.c_str());
    return 2;
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
  if (!cookie.empty()) headers.emplace_back("Cookie", cookie);
  if (!origin.empty()) headers.emplace_back("Origin", origin);
  auto conn = parsed->tls ? client::connect_tls(*parsed, std::chrono::seconds(5), headers, {ca_file, insecure})
                          : client::ws_client::connect(*parsed, std::chrono::seconds(5), headers);
  if (!conn) {
    std::fprintf(stderr, "tickstream-watch: cannot connect to %s: %s: %s\n", url.c_str(), conn.err().code.c_str(),
                 conn.err().message.c_str());
    return 1;
  }
  auto& ws = *conn.value();
  std::fprintf(stderr, "tickstream-watch: connected to %s (edge node %s)\n", url.c_str(),
               ws.node().empty() ? "unknown" : ws.node().c_str());
  std::string subscribe = R"({"type":"subscribe","symbols":[)" + json_list(symbols) + "]";
  if (!channels.empty()) subscribe += R"(,"channels":[)" + json_list(channels) + "]";
  ws.send(subscribe + "}");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  for (std::int64_t n = 0; count == 0 || n < count; ++n) {
    auto frame = ws.next(std::chrono::milliseconds(500));
    while (!frame && !ws.closed() && (seconds == 0 || std::chrono::steady_clock::now() < deadline)) {
      frame = ws.next(std::chrono::milliseconds(500));
    }
    if (!frame) break;
    if (timestamps) {
      const auto us =
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
              .count();
      std::printf("%lld ", static_cast<long long>(us));
    }
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
