#include "tests/support/redis_server.hpp"

#include <csignal>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "tests/support/redis_process.hpp"
#include "tests/support/wait.hpp"

namespace tickstream::test {

redis_server::redis_server(bool persistent) {
  if (persistent) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tickstream-redis-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
  }
  proc_ = spawn_redis(
      [&](int port) {
        port_ = port;
        return args();
      },
      port_);
}

redis_server::~redis_server() {
  proc_.reset();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::vector<std::string> redis_server::args() const {
  std::vector<std::string> args{"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "",
                                "--daemonize",  "no",     "--loglevel",          "warning"};
  if (dir_.empty()) {
    args.insert(args.end(), {"--appendonly", "no"});
  } else {
    args.insert(args.end(), {"--appendonly", "yes", "--appendfsync", "always", "--dir", dir_});
  }
  return args;
}

void redis_server::start() { proc_ = std::make_unique<child_process>(args()); }

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

std::string redis_server::cli(const std::vector<std::string>& args) const { return redis_cli(port_, args); }

}  // namespace tickstream::test
