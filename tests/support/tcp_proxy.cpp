#include "tests/support/tcp_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace tickstream::test {

struct tcp_proxy::link {
  int client = -1;
  int server = -1;
  std::atomic<bool> saw_marker{false};  // the client sent SUBSCRIBE
  std::string tail;                     // last bytes sent by the client, so a SUBSCRIBE split across reads is found
};

namespace {

int loopback_socket(int port, bool listen_mode, int* bound_port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (listen_mode) {
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 64) != 0) {
      throw std::runtime_error("proxy cannot listen");
    }
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    *bound_port = ntohs(a.sin_port);
  } else if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

tcp_proxy::tcp_proxy(int target_port) : target_port_(target_port) {
  listen_fd_ = loopback_socket(0, true, &port_);
  acceptor_ = std::thread([this] { accept_loop(); });
}

tcp_proxy::~tcp_proxy() {
  stop_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  {
    std::lock_guard lock(mu_);
    for (auto& l : links_) {
      ::shutdown(l->client, SHUT_RDWR);
      ::shutdown(l->server, SHUT_RDWR);
    }
  }
  for (auto& t : threads_) t.join();
  for (auto& l : links_) {
    ::close(l->client);
    ::close(l->server);
  }
  ::close(listen_fd_);
}

void tcp_proxy::accept_loop() {
  while (!stop_) {
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) return;
    int unused = 0;
    const int server = loopback_socket(target_port_, false, &unused);
    if (server < 0) {
      ::close(client);
      continue;
    }
    auto l = std::make_shared<link>();
    l->client = client;
    l->server = server;
    std::lock_guard lock(mu_);
    links_.push_back(l);
    threads_.emplace_back([this, l] { pump(l, true); });
    threads_.emplace_back([this, l] { pump(l, false); });
  }
}

void tcp_proxy::pump(const std::shared_ptr<link>& l, bool to_server) {
  const int from = to_server ? l->client : l->server;
  const int to = to_server ? l->server : l->client;
  char buf[16384];
  while (!stop_) {
    if (!to_server && l->saw_marker && frozen_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    const auto n = ::recv(from, buf, sizeof buf, 0);
    if (n <= 0) break;
    if (to_server && !l->saw_marker) {
      l->tail.append(buf, static_cast<std::size_t>(n));
      if (l->tail.find("SUBSCRIBE") != std::string::npos) l->saw_marker = true;
      if (l->tail.size() > 64) l->tail.erase(0, l->tail.size() - 64);
    }
    for (ssize_t sent = 0; sent < n;) {
      const auto w = ::send(to, buf + sent, static_cast<std::size_t>(n - sent), MSG_NOSIGNAL);
      if (w <= 0) return;
      sent += w;
    }
  }
  ::shutdown(to, SHUT_WR);
}

}  // namespace tickstream::test
