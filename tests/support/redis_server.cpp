#include "tests/support/redis_server.hpp"

#include <csignal>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "tests/support/wait.hpp"

namespace tickstream::test {

redis_server::redis_server(bool persistent) {
  if (persistent) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tickstream-redis-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
  }
  // A free port can be taken between the check and redis-server's bind: retry a few times.
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_port();
    start();
    if (wait_until([&] { return cli({"PING"}) == "PONG\n"; }, std::chrono::seconds(5))) return;
    proc_.reset();
  }
  throw std::runtime_error("redis-server did not start");
}

redis_server::~redis_server() {
  proc_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

void redis_server::start() {
  std::vector<std::string> args{"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "",
                                "--daemonize",  "no",     "--loglevel",          "warning"};
  if (dir_.empty()) {
    args.insert(args.end(), {"--appendonly", "no"});
  } else {
    args.insert(args.end(), {"--appendonly", "yes", "--appendfsync", "always", "--dir", dir_});
  }
  proc_ = std::make_unique<child_process>(args);
}

void redis_server::kill() { proc_.reset(); }

void redis_server::pause() { proc_->signal(SIGSTOP); }

void redis_server::resume() { proc_->signal(SIGCONT); }

void redis_server::restart() {
  kill();
  start();
  if (!wait_until([&] { return cli({"PING"}) == "PONG\n"; }, std::chrono::seconds(10))) {
    throw std::runtime_error("redis-server did not restart");
  }
}

std::string redis_server::cli(const std::vector<std::string>& args) const {
  std::string cmd = "redis-cli -p " + std::to_string(port_);
  for (const auto& a : args) {
    cmd += " '";
    for (char c : a) cmd += c == '\'' ? std::string("'\\''") : std::string(1, c);
    cmd += "'";
  }
  cmd += " 2>/dev/null";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

}  // namespace tickstream::test
