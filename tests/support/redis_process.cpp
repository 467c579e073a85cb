#include "tests/support/redis_process.hpp"

#include <cstdio>
#include <stdexcept>

#include "tests/support/wait.hpp"

namespace tickstream::test {

std::unique_ptr<child_process> spawn_redis(const std::function<std::vector<std::string>(int port)>& argv, int& port) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    port = free_port();
    auto proc = std::make_unique<child_process>(argv(port));
    if (wait_until([&] { return redis_cli(port, {"PING"}) == "PONG\n"; }, std::chrono::seconds(5))) return proc;
  }
  throw std::runtime_error("redis-server did not start");
}

std::string redis_cli(int port, const std::vector<std::string>& args) {
  std::string cmd = "redis-cli -p " + std::to_string(port);
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
