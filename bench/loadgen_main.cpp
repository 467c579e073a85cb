// tickstream-loadgen: opens many WebSocket connections to an edge, subscribes each by a pattern,
// and measures what arrives: deliveries/s and end-to-end latency from each tick's ingest receive
// time (recv_us) to its receipt here, plus its own CPU and, given --server-pid, the server's CPU
// and RSS over the same window.
//
// Lean by design so that it is not the bottleneck: one epoll loop per process, non-blocking
// sockets, one big read() per readiness event, frames parsed in place after the handshake (no
// WebSocket library), no allocation per frame. Several processes (--procs) pass the per-process
// open-files limit; source addresses spread over 127.0.0.0/8 pass the ephemeral-port limit.
// Every run is bounded by --duration and stops by itself.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "bench/latency_histogram.hpp"
#include "bench/ws_frame_reader.hpp"
#include "common/clock.hpp"
#include "common/config_parser.hpp"

namespace {

using namespace tickstream;
using bench::latency_histogram;
using bench::ws_frame_reader;
using opcode = ws_frame_reader::opcode;

struct options {
  std::string host = "127.0.0.1";
  std::string ports = "8080";  // comma-separated: connection i goes to port i mod n
  std::int64_t connections = 100;
  std::int64_t procs = 1;
  std::string pattern = "one";       // one | own | all | list
  std::string symbols = "SYM0";      // for "one"/"list": the symbol(s); for "own"/"all": a prefix
  std::int64_t symbol_count = 1;     // for "all": subscribe each connection to this many symbols
  std::int64_t duration_s = 10;      // measurement window
  std::int64_t warmup_s = 2;         // after all are subscribed, before measuring
  std::int64_t connect_rate = 5000;  // new connections per second
  std::string source_ips = "127.0.0.2-127.0.0.250";
  std::int64_t server_pid = 0;
  std::int64_t batch_ms = -1;       // ask the edge for this batching window (-1: server default)
  bool no_read = false;             // never read after subscribing (slow consumers)
  bool deflate = false;             // offer permessage-deflate and inflate what arrives compressed
  bool deflate_no_context = false;  // with it, ask for server_no_context_takeover
};

// Inflates permessage-deflate messages (RFC 7692): without context takeover each message alone,
// so one stream per process serves every connection; with it, one stream per connection, each
// message read against the ones before it (as a browser does). Its own, not the edge's
// (edge/protocol/deflate.hpp): the load generator judges what the server sends with nothing of
// the server's code.
class message_inflater {
 public:
  explicit message_inflater(bool context_takeover = false) : context_takeover_(context_takeover) {
    if (inflateInit2(&z_, -MAX_WBITS) != Z_OK) throw std::runtime_error("zlib: inflateInit2 failed");
  }
  ~message_inflater() { inflateEnd(&z_); }
  message_inflater(const message_inflater&) = delete;
  message_inflater& operator=(const message_inflater&) = delete;

  // The message inflated, or nullopt if it is not valid deflate data.
  std::optional<std::string_view> inflate(std::string_view compressed) {
    if (!context_takeover_) inflateReset(&z_);
    input_.assign(compressed);
    input_.append("\x00\x00\xff\xff", 4);  // the empty block the sender removed (§7.2.2)
    z_.next_in = reinterpret_cast<Bytef*>(input_.data());
    z_.avail_in = static_cast<uInt>(input_.size());
    std::size_t produced = 0;
    for (;;) {
      if (out_.size() - produced < 4096) out_.resize(out_.size() * 2);
      z_.next_out = reinterpret_cast<Bytef*>(out_.data() + produced);
      z_.avail_out = static_cast<uInt>(out_.size() - produced);
      const int rc = ::inflate(&z_, Z_SYNC_FLUSH);
      produced = out_.size() - z_.avail_out;
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) return std::nullopt;
      if (z_.avail_in == 0 && z_.avail_out != 0) break;
      if (rc == Z_BUF_ERROR && z_.avail_out != 0) return std::nullopt;
    }
    return std::string_view(out_.data(), produced);
  }

 private:
  const bool context_takeover_;
  z_stream z_{};
  std::string input_;
  std::string out_ = std::string(1 << 16, '\0');
};

// Measurements of one process, sent to the parent over a pipe.
struct result {
  std::uint64_t open = 0;              // connections that completed the handshake
  std::uint64_t subscribed = 0;        // connections whose subscribe was confirmed
  std::uint64_t failed = 0;            // connect/handshake failures or drops
  std::uint64_t failed_connect = 0;    // of which: the TCP connect failed
  std::uint64_t failed_handshake = 0;  // of which: closed or refused during the HTTP upgrade
  std::uint64_t dropped = 0;           // of which: closed after the upgrade
  std::uint64_t frames = 0;            // WebSocket messages received in the window
  std::uint64_t deliveries = 0;        // events received in the window (a batch counts each event)
  std::uint64_t bytes = 0;             // payload bytes received in the window (as sent: compressed or not)
  std::uint64_t compressed = 0;        // of the messages, those that arrived compressed
  std::uint64_t inflated_bytes = 0;    // payload bytes after inflating the compressed ones
  std::uint64_t deflate_agreed = 0;    // connections whose upgrade agreed permessage-deflate
  std::uint64_t bad_compressed = 0;    // compressed messages that did not inflate
  double cpu_s = 0;                    // this process's CPU time over the window
  latency_histogram latency;           // µs from recv_us to receipt
};

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// utime+stime of a process in seconds, from /proc.
double process_cpu(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> f;
  std::size_t p = close + 2;
  while (p < stat.size()) {
    const auto sp = stat.find(' ', p);
    f.push_back(stat.substr(p, sp - p));
    if (sp == std::string::npos) break;
    p = sp + 1;
  }
  if (f.size() < 13) return 0;
  return static_cast<double>(std::stoull(f[11]) + std::stoull(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long process_rss_kib(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

std::vector<in_addr> parse_ip_range(const std::string& range) {
  const auto dash = range.find('-');
  in_addr a{}, b{};
  inet_pton(AF_INET, range.substr(0, dash).c_str(), &a);
  inet_pton(AF_INET, dash == std::string::npos ? range.c_str() : range.substr(dash + 1).c_str(), &b);
  std::vector<in_addr> out;
  for (auto i = ntohl(a.s_addr); i <= ntohl(b.s_addr); ++i) out.push_back(in_addr{htonl(i)});
  return out;
}

struct connection {
  int fd = -1;
  enum class phase { connecting, handshaking, open, dead } state = phase::connecting;
  std::string handshake;  // response bytes until the blank line
  ws_frame_reader reader;
  bool subscribed = false;
  std::string subscribe_frame;
  std::unique_ptr<message_inflater> inflater;  // the server kept context takeover: this connection's stream
};

class runner {
 public:
  runner(const options& o, std::int64_t first, std::int64_t count, std::vector<in_addr> ips)
      : opt_(o), first_(first), count_(count), ips_(std::move(ips)), rng_(static_cast<unsigned>(first) * 7919U + 1) {
    for (std::size_t start = 0;;) {
      const auto comma = o.ports.find(',', start);
      ports_.push_back(static_cast<std::uint16_t>(std::stoi(o.ports.substr(start, comma - start))));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }

  result run() {
    ep_ = epoll_create1(0);
    conns_.resize(static_cast<std::size_t>(count_));
    const auto start = std::chrono::steady_clock::now();
    const auto connect_deadline = start + std::chrono::seconds(60);
    std::int64_t started = 0;
    std::vector<epoll_event> events(1024);
    std::vector<char> buf(1 << 18);
    using clock = std::chrono::steady_clock;
    clock::time_point measure_start{}, measure_end{};
    double cpu0 = 0, server_cpu0 = 0;
    bool measuring = false;
    for (;;) {
      const auto now = clock::now();
      // Open connections at the configured rate.
      const auto due = std::min<std::int64_t>(
          count_, static_cast<std::int64_t>(std::chrono::duration<double>(now - start).count() *
                                            static_cast<double>(opt_.connect_rate) / static_cast<double>(opt_.procs)) +
                      1);
      while (started < due) open_connection(static_cast<std::size_t>(started++));
      const bool all_settled = started == count_ && res_.subscribed + res_.failed >= static_cast<std::uint64_t>(count_);
      if (!measuring && (all_settled || now > connect_deadline)) {
        if (measure_start == clock::time_point{}) {
          measure_start = now + std::chrono::seconds(opt_.warmup_s);
          measure_end = measure_start + std::chrono::seconds(opt_.duration_s);
        } else if (now >= measure_start) {
          measuring = true;
          measuring_ = true;
          cpu0 = cpu_seconds();
          if (opt_.server_pid != 0) server_cpu0 = process_cpu(static_cast<long>(opt_.server_pid));
        }
      }
      if (measuring && now >= measure_end) {
        res_.cpu_s = cpu_seconds() - cpu0;
        if (opt_.server_pid != 0) server_cpu_s_ = process_cpu(static_cast<long>(opt_.server_pid)) - server_cpu0;
        break;
      }
      const int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), 5);
      for (int i = 0; i < n; ++i)
        on_event(conns_[events[static_cast<std::size_t>(i)].data.u64], events[static_cast<std::size_t>(i)].events, buf);
    }
    for (auto& c : conns_) {
      if (c.fd >= 0) ::close(c.fd);
    }
    ::close(ep_);
    return res_;
  }

  double server_cpu_s() const { return server_cpu_s_; }

 private:
  std::string subscribe_for(std::int64_t index) const {
    std::string list;
    auto add = [&](const std::string& s) { list += (list.empty() ? "\"" : ",\"") + s + "\""; };
    if (opt_.pattern == "one" || opt_.pattern == "list") {
      std::size_t start = 0;
      for (;;) {
        const auto comma = opt_.symbols.find(',', start);
        add(opt_.symbols.substr(start, comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else if (opt_.pattern == "own") {
      add(opt_.symbols + std::to_string(index));
    } else {  // all: symbol_count symbols sharing the prefix
      for (std::int64_t i = 0; i < opt_.symbol_count; ++i) add(opt_.symbols + std::to_string(i));
    }
    std::string msg = R"({"type":"subscribe","snapshot":false,"symbols":[)" + list + "]";
    if (opt_.batch_ms >= 0) msg += R"(,"batch_ms":)" + std::to_string(opt_.batch_ms);
    return msg + "}";
  }

  void open_connection(std::size_t i) {
    auto& c = conns_[i];
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr = ips_[i % ips_.size()];
    // A source address the kernel refuses leaves the default one: the connect still works.
    (void)::bind(c.fd, reinterpret_cast<sockaddr*>(&src), sizeof src);
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(ports_[static_cast<std::size_t>(first_ + static_cast<std::int64_t>(i)) % ports_.size()]);
    inet_pton(AF_INET, opt_.host.c_str(), &dst.sin_addr);
    const int rc = ::connect(c.fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst);
    if (rc != 0 && errno != EINPROGRESS) {
      fail(c);
      return;
    }
    c.subscribe_frame = bench::make_client_frame(opcode::text, subscribe_for(first_ + static_cast<std::int64_t>(i)),
                                                 static_cast<std::uint32_t>(rng_()));
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = i;
    epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
  }

  void fail(connection& c) {
    if (c.state == connection::phase::dead) return;
    switch (c.state) {
      case connection::phase::connecting: ++res_.failed_connect; break;
      case connection::phase::handshaking: ++res_.failed_handshake; break;
      default: ++res_.dropped; break;
    }
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
    c.state = connection::phase::dead;
    ++res_.failed;
  }

  bool write_all(connection& c, std::string_view data) {
    while (!data.empty()) {
      const auto n = ::send(c.fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;  // the kernel buffer of a fresh socket always takes these
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  void on_event(connection& c, std::uint32_t events, std::vector<char>& buf) {
    if (c.state == connection::phase::dead) return;
    if ((events & (EPOLLERR | EPOLLHUP)) != 0 && c.state != connection::phase::open) {
      fail(c);
      return;
    }
    if (c.state == connection::phase::connecting && (events & EPOLLOUT) != 0) {
      const std::string req = "GET /ws HTTP/1.1\r\nHost: " + opt_.host +
                              "\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Version: 13\r\n" +
                              (!opt_.deflate             ? ""
                               : opt_.deflate_no_context ? "Sec-WebSocket-Extensions: permessage-deflate; "
                                                           "client_no_context_takeover; server_no_context_takeover\r\n"
                                                         : "Sec-WebSocket-Extensions: permessage-deflate; "
                                                           "client_no_context_takeover\r\n") +
                              "\r\n";
      if (!write_all(c, req)) return fail(c);
      c.state = connection::phase::handshaking;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = static_cast<std::uint64_t>(&c - conns_.data());
      epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
      return;
    }
    if ((events & EPOLLIN) == 0) return;
    if (opt_.no_read && c.subscribed) return;  // a slow consumer: leave the bytes in the kernel
    for (;;) {
      const auto n = ::read(c.fd, buf.data(), buf.size());
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return fail(c);
      if (n < 0) return;
      std::string_view data(buf.data(), static_cast<std::size_t>(n));
      if (c.state == connection::phase::handshaking) {
        c.handshake.append(data);
        const auto end = c.handshake.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        if (c.handshake.compare(0, 12, "HTTP/1.1 101") != 0) return fail(c);
        if (opt_.deflate && c.handshake.substr(0, end).find("permessage-deflate") != std::string::npos) {
          c.reader.accept_compressed(true);
          ++res_.deflate_agreed;
          if (c.handshake.substr(0, end).find("server_no_context_takeover") == std::string::npos) {
            c.inflater = std::make_unique<message_inflater>(true);
          }
        }
        const auto rest = c.handshake.substr(end + 4);
        c.handshake.clear();
        c.handshake.shrink_to_fit();
        c.state = connection::phase::open;
        ++res_.open;
        if (!write_all(c, c.subscribe_frame)) return fail(c);
        std::string().swap(c.subscribe_frame);
        if (!consume(c, rest)) return fail(c);
      } else if (!consume(c, data)) {
        return fail(c);
      }
      if (static_cast<std::size_t>(n) < buf.size()) return;
    }
  }

  bool consume(connection& c, std::string_view data) {
    const auto now = common::now_us();
    return c.reader.feed(data, [&](opcode op, std::string_view wire, bool compressed) {
      std::string_view payload = wire;
      if (compressed) {
        const auto inflated = (c.inflater ? *c.inflater : inflater_).inflate(wire);
        if (!inflated) {
          ++res_.bad_compressed;
          return;
        }
        payload = *inflated;
      }
      if (op == opcode::ping) {
        write_all(c, bench::make_client_frame(opcode::pong, payload, static_cast<std::uint32_t>(rng_())));
        return;
      }
      if (op != opcode::text) return;
      if (!c.subscribed && payload.find(R"("type":"subscribed")") != std::string_view::npos) {
        c.subscribed = true;
        ++res_.subscribed;
        return;
      }
      if (!measuring_) return;
      ++res_.frames;
      res_.bytes += wire.size();
      res_.inflated_bytes += payload.size();
      if (compressed) ++res_.compressed;
      // Every event carries "recv_us":<digits>; a batch carries several.
      static constexpr std::string_view key = "\"recv_us\":";
      for (auto at = payload.find(key); at != std::string_view::npos; at = payload.find(key, at + key.size())) {
        std::int64_t recv = 0;
        const char* b = payload.data() + at + key.size();
        std::from_chars(b, payload.data() + payload.size(), recv);
        res_.latency.record(now - recv);
        ++res_.deliveries;
      }
    });
  }

  const options& opt_;
  std::int64_t first_;
  std::int64_t count_;
  std::vector<in_addr> ips_;
  std::vector<std::uint16_t> ports_;
  std::vector<connection> conns_;
  int ep_ = -1;
  result res_;
  bool measuring_ = false;
  double server_cpu_s_ = 0;
  std::mt19937 rng_;
  message_inflater inflater_;
};

}  // namespace

int main(int argc, char** argv) {
  options o;
  common::config_parser p("tickstream-loadgen", "Opens WebSocket connections to an edge and measures delivery.");
  p.add_string("host", "", o.host, "Edge address.");
  p.add_string("port", "", o.ports, "Edge port, or comma-separated ports to spread connections over edges.");
  p.add_int("connections", "", o.connections, 1, 1'000'000, "Connections in total (over all processes).");
  p.add_int("procs", "", o.procs, 1, 64, "Processes (each may hold at most ~19,000 connections here).");
  p.add_string("pattern", "", o.pattern,
               "Subscriptions: one (all on --symbols), own (connection i on <prefix>i), all (each on "
               "--symbol-count symbols <prefix>0..), list (each on the comma-separated --symbols).");
  p.add_string("symbols", "", o.symbols, "Symbol, list or prefix, depending on --pattern.");
  p.add_int("symbol-count", "", o.symbol_count, 1, 100'000, "Symbols per connection with --pattern all.");
  p.add_int("duration", "", o.duration_s, 1, 3600, "Seconds to measure.");
  p.add_int("warmup", "", o.warmup_s, 0, 600, "Seconds between all subscribed and measuring.");
  p.add_int("connect-rate", "", o.connect_rate, 1, 1'000'000, "New connections per second.");
  p.add_string("source-ips", "", o.source_ips, "Range of local source addresses, e.g. 127.0.0.2-127.0.0.250.");
  p.add_int("server-pid", "", o.server_pid, 0, 1LL << 31, "PID of the edge, to report its CPU and RSS.");
  p.add_int("batch-ms", "", o.batch_ms, -1, 60'000, "Ask for this batching window (-1: server default).");
  p.add_bool("no-read", "", o.no_read, "Stop reading after subscribing (slow consumers).");
  p.add_bool("deflate", "", o.deflate,
             "Offer permessage-deflate and inflate compressed messages (against the connection's earlier ones "
             "unless the server declined context takeover); reports the bytes on the wire against the bytes "
             "inflated.");
  p.add_bool("deflate-no-context", "", o.deflate_no_context,
             "With --deflate: ask the server for server_no_context_takeover (every message compressed alone).");
  p.parse_or_exit(argc, argv);

  const auto ips = parse_ip_range(o.source_ips);
  if (ips.empty()) {
    std::fprintf(stderr, "tickstream-loadgen: --source-ips: empty range\n");
    return 2;
  }
  // The server's RSS before any of our connections, so the per-connection figure excludes its base.
  const long rss_before = o.server_pid ? process_rss_kib(static_cast<long>(o.server_pid)) : 0;

  struct child_report {
    result r;
    double server_cpu_s;
  };
  std::vector<int> pipes;
  std::vector<pid_t> kids;
  for (std::int64_t i = 0; i < o.procs; ++i) {
    int fds[2];
    if (pipe(fds) != 0) return 1;
    const std::int64_t first = o.connections * i / o.procs;
    const std::int64_t count = o.connections * (i + 1) / o.procs - first;
    const pid_t pid = fork();
    if (pid == 0) {
      ::close(fds[0]);
      std::vector<in_addr> mine;
      for (std::size_t k = static_cast<std::size_t>(i); k < ips.size(); k += static_cast<std::size_t>(o.procs))
        mine.push_back(ips[k]);
      if (mine.empty()) mine.push_back(ips[static_cast<std::size_t>(i) % ips.size()]);
      runner r(o, first, count, mine);
      child_report rep{r.run(), 0};
      rep.server_cpu_s = r.server_cpu_s();
      const char* out = reinterpret_cast<const char*>(&rep);
      std::size_t left = sizeof rep;
      while (left > 0) {
        const auto n = ::write(fds[1], out, left);
        if (n <= 0) _exit(1);
        out += n;
        left -= static_cast<std::size_t>(n);
      }
      _exit(0);
    }
    ::close(fds[1]);
    pipes.push_back(fds[0]);
    kids.push_back(pid);
  }
  result total;
  double server_cpu_s = 0;
  double child_cpu = 0;
  for (std::size_t i = 0; i < pipes.size(); ++i) {
    child_report rep{};
    char* in = reinterpret_cast<char*>(&rep);
    std::size_t got = 0;
    while (got < sizeof rep) {
      const auto n = ::read(pipes[i], in + got, sizeof rep - got);
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    int st = 0;
    waitpid(kids[i], &st, 0);
    if (got != sizeof rep) {
      std::fprintf(stderr, "tickstream-loadgen: process %zu failed\n", i);
      continue;
    }
    total.open += rep.r.open;
    total.subscribed += rep.r.subscribed;
    total.failed += rep.r.failed;
    total.failed_connect += rep.r.failed_connect;
    total.failed_handshake += rep.r.failed_handshake;
    total.dropped += rep.r.dropped;
    total.frames += rep.r.frames;
    total.deliveries += rep.r.deliveries;
    total.bytes += rep.r.bytes;
    total.compressed += rep.r.compressed;
    total.inflated_bytes += rep.r.inflated_bytes;
    total.deflate_agreed += rep.r.deflate_agreed;
    total.bad_compressed += rep.r.bad_compressed;
    total.latency.merge(rep.r.latency);
    child_cpu += rep.r.cpu_s;
    server_cpu_s = std::max(server_cpu_s, rep.server_cpu_s);
  }
  const double secs = static_cast<double>(o.duration_s);
  const double dps = static_cast<double>(total.deliveries) / secs;
  std::printf("connections %llu/%lld open, %llu subscribed, %llu failed (connect %llu, upgrade %llu, dropped %llu)\n",
              static_cast<unsigned long long>(total.open), static_cast<long long>(o.connections),
              static_cast<unsigned long long>(total.subscribed), static_cast<unsigned long long>(total.failed),
              static_cast<unsigned long long>(total.failed_connect),
              static_cast<unsigned long long>(total.failed_handshake), static_cast<unsigned long long>(total.dropped));
  std::printf("deliveries %llu in %.0f s = %.0f/s; frames %.0f/s; %.1f MB/s\n",
              static_cast<unsigned long long>(total.deliveries), secs, dps, static_cast<double>(total.frames) / secs,
              static_cast<double>(total.bytes) / secs / 1e6);
  if (o.deflate) {
    std::printf(
        "deflate agreed on %llu connections; %llu of %llu messages compressed, %llu did not inflate; payload "
        "%.1f MB/s on the wire for %.1f MB/s inflated (%.3f of uncompressed)\n",
        static_cast<unsigned long long>(total.deflate_agreed), static_cast<unsigned long long>(total.compressed),
        static_cast<unsigned long long>(total.frames), static_cast<unsigned long long>(total.bad_compressed),
        static_cast<double>(total.bytes) / secs / 1e6, static_cast<double>(total.inflated_bytes) / secs / 1e6,
        total.inflated_bytes ? static_cast<double>(total.bytes) / static_cast<double>(total.inflated_bytes) : 0.0);
  }
  std::printf("latency us p50 %llu p99 %llu p99.9 %llu max %llu\n",
              static_cast<unsigned long long>(total.latency.quantile(0.5)),
              static_cast<unsigned long long>(total.latency.quantile(0.99)),
              static_cast<unsigned long long>(total.latency.quantile(0.999)),
              static_cast<unsigned long long>(total.latency.max()));
  std::printf("loadgen cpu %.1f%% of one core (%.2f us per delivery)\n", child_cpu / secs * 100,
              total.deliveries ? child_cpu * 1e6 / static_cast<double>(total.deliveries) : 0.0);
  if (o.server_pid != 0) {
    const long rss = process_rss_kib(static_cast<long>(o.server_pid));
    std::printf(
        "server cpu %.1f%% of one core (%.2f us per delivery); rss %ld KiB, +%ld KiB for the "
        "connections (%.2f KiB per connection)\n",
        server_cpu_s / secs * 100, total.deliveries ? server_cpu_s * 1e6 / static_cast<double>(total.deliveries) : 0.0,
        rss, rss - rss_before,
        total.open ? static_cast<double>(rss - rss_before) / static_cast<double>(total.open) : 0.0);
  }
  return total.failed == 0 && total.bad_compressed == 0 ? 0 : 1;
}
