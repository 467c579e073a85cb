// tickstream-floor: the floor of a broadcast, for benchmarks. It serves the load generator the way
// the edge does (WebSocket upgrade, subscribe answered), then forwards each message of one Redis
// channel to every connection with exactly one send() per delivery, on one thread: no queues, no
// timers, no heartbeats, no framing work beyond one header per message. Whatever a server spends per
// delivery above this tool's figure, measured in the same run, is the server's own cost.
//
//   tickstream-floor --port 8199 --redis-port 6499 --channel 'ts:{md:SYM0}' --connections 1000
//
// Bounded: it exits after --duration seconds (SIGALRM) whatever happens.
//
// --spin-ns N adds N ns of busy work after each send(): a stand-in for a server's own work per
// delivery, to see what that much work costs in the same run (the sender pays for waking the
// load generator each time it has caught up and gone to sleep).

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/config_parser.hpp"
#include "common/redis/keys.hpp"

namespace {

struct options {
  std::string host = "127.0.0.1";
  std::int64_t port = 8199;
  std::string redis_host = "127.0.0.1";
  std::int64_t redis_port = 6379;
  std::string channel = "ts:{md:SYM0}";
  std::int64_t connections = 1000;
  std::int64_t duration_s = 120;
  std::int64_t spin_ns = 0;
};

// Busy work for ns nanoseconds (a server's own work per delivery, simulated).
void spin_for(std::int64_t ns) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(ns);
  while (std::chrono::steady_clock::now() < until) {
  }
}

// Reads from fd until `until` appears in buf; false on EOF or error.
bool read_until(int fd, std::string& buf, std::string_view until) {
  char chunk[4096];
  while (buf.find(until) == std::string::npos) {
    const auto n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) return false;
    buf.append(chunk, static_cast<std::size_t>(n));
  }
  return true;
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// An unmasked server text frame (RFC 6455 §5.2) holding payload.
std::string text_frame(std::string_view payload) {
  std::string f;
  f.reserve(payload.size() + 10);
  f.push_back(static_cast<char>(0x81));
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(payload.size()));
  } else if (payload.size() <= 0xffff) {
    f.push_back(static_cast<char>(126));
    f.push_back(static_cast<char>(payload.size() >> 8));
    f.push_back(static_cast<char>(payload.size() & 0xff));
  } else {
    f.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8) f.push_back(static_cast<char>((payload.size() >> shift) & 0xff));
  }
  f.append(payload);
  return f;
}

// The Sec-WebSocket-Accept value for a client's key (RFC 6455 §4.2.2).
std::string accept_key(std::string_view key) {
  const std::string in = std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(in.data()), in.size(), digest);
  unsigned char out[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(out, digest, SHA_DIGEST_LENGTH);
  return {reinterpret_cast<const char*>(out), static_cast<std::size_t>(n)};
}

// Completes one client's upgrade and answers its subscribe message with subscribed (the edge's
// answer, in the protocol's shape). -1 on failure.
int admit(int listener, const std::string& subscribed) {
  const int fd = ::accept(listener, nullptr, nullptr);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const auto refuse = [fd] {
    ::close(fd);
    return -1;
  };
  std::string req;
  if (!read_until(fd, req, "\r\n\r\n")) return refuse();
  static constexpr std::string_view name = "Sec-WebSocket-Key:";
  const auto at = req.find(name);
  if (at == std::string::npos) return refuse();
  auto begin = at + name.size();
  while (begin < req.size() && req[begin] == ' ') ++begin;
  const auto key = std::string_view(req).substr(begin, req.find("\r\n", begin) - begin);
  const std::string res =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " +
      accept_key(key) + "\r\n\r\n";
  if (!send_all(fd, res)) return refuse();
  // The client's subscribe: one masked frame (its content does not matter here).
  std::string frame = req.substr(req.find("\r\n\r\n") + 4);
  char chunk[4096];
  const auto complete = [&] {
    return frame.size() >= 2 && frame.size() >= 6U + (static_cast<std::uint8_t>(frame[1]) & 0x7fU);
  };
  while (!complete()) {
    const auto n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) return refuse();
    frame.append(chunk, static_cast<std::size_t>(n));
  }
  if (!send_all(fd, subscribed)) return refuse();
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  tickstream::common::config_parser p("tickstream-floor",
                                      "Forwards one Redis channel to every client with one send() per delivery.");
  p.add_string("host", "", o.host, "Address to listen on.");
  p.add_int("port", "", o.port, 1, 65535, "Port to listen on.");
  p.add_string("redis-host", "", o.redis_host, "Redis address.");
  p.add_int("redis-port", "", o.redis_port, 1, 65535, "Redis port.");
  p.add_string("channel", "", o.channel, "The Redis channel to forward.");
  p.add_int("connections", "", o.connections, 1, 100'000, "Clients to admit before forwarding starts.");
  p.add_int("duration", "", o.duration_s, 1, 3600, "Seconds before the tool exits, whatever happens.");
  p.add_int("spin-ns", "", o.spin_ns, 0, 1'000'000, "Busy work after each send(), in nanoseconds (0: none).");
  p.parse_or_exit(argc, argv);
  alarm(static_cast<unsigned>(o.duration_s));
  const auto symbol = tickstream::common::symbol_of_market_channel(o.channel);
  if (!symbol) {
    std::fprintf(stderr, "tickstream-floor: --channel must be a market channel (ts:{md:SYMBOL}), not '%s'\n",
                 o.channel.c_str());
    return 2;
  }
  const std::string subscribed = text_frame(R"({"type":"subscribed","symbols":[")" + std::string(*symbol) +
                                            R"("],"channels":[],"rejected":[],"batch_ms":0})");

  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(o.port));
  inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener, 4096) != 0) {
    std::perror("tickstream-floor: listen");
    return 1;
  }
  std::vector<int> clients;
  while (static_cast<std::int64_t>(clients.size()) < o.connections) {
    const int fd = admit(listener, subscribed);
    if (fd >= 0) clients.push_back(fd);
  }

  std::unique_ptr<redisContext, decltype(&redisFree)> redis(
      redisConnect(o.redis_host.c_str(), static_cast<int>(o.redis_port)), &redisFree);
  if (!redis || redis->err) {
    std::fprintf(stderr, "tickstream-floor: redis: %s\n", redis ? redis->errstr : "out of memory");
    return 1;
  }
  freeReplyObject(redisCommand(redis.get(), "SUBSCRIBE %b", o.channel.data(), o.channel.size()));
  for (;;) {
    void* raw = nullptr;
    if (redisGetReply(redis.get(), &raw) != REDIS_OK) {
      std::fprintf(stderr, "tickstream-floor: redis: %s\n", redis->errstr);
      return 1;
    }
    std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(static_cast<redisReply*>(raw), &freeReplyObject);
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 || reply->element[2]->type != REDIS_REPLY_STRING)
      continue;
    const std::string frame = text_frame(std::string_view(reply->element[2]->str, reply->element[2]->len));
    for (const int fd : clients) {
      (void)::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL);
      if (o.spin_ns > 0) spin_for(o.spin_ns);
    }
  }
}
