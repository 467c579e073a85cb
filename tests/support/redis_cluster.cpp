#include "tests/support/redis_cluster.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "tests/support/wait.hpp"

namespace tickstream::test {

redis_cluster::redis_cluster(int masters, int replicas_per_master) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "tickstream-cluster-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  const int total = masters * (1 + replicas_per_master);
  for (int i = 0; i < total; ++i) {
    // A free port can be taken between the check and the bind: retry a few times.
    bool started = false;
    for (int attempt = 0; attempt < 5 && !started; ++attempt) {
      const int port = free_port();
      start_node(port);
      started = wait_until([&] { return cli(port, {"PING"}) == "PONG\n"; }, std::chrono::seconds(5));
      if (started) {
        ports_.push_back(port);
      } else {
        nodes_.pop_back();
      }
    }
    if (!started) throw std::runtime_error("a cluster node did not start");
  }
  std::string create = "redis-cli --cluster create";
  for (const int port : ports_) create += " 127.0.0.1:" + std::to_string(port);
  create += " --cluster-replicas " + std::to_string(replicas_per_master) + " --cluster-yes >/dev/null 2>&1";
  if (std::system(create.c_str()) != 0) throw std::runtime_error("redis-cli --cluster create failed");
  for (const int port : ports_) {
    if (!wait_until(
            [&] {
              return cli(port, {"CLUSTER", "INFO"}).find("cluster_state:ok") != std::string::npos;
            },
            std::chrono::seconds(10))) {
      throw std::runtime_error("the cluster did not become ready");
    }
  }
}

redis_cluster::~redis_cluster() {
  nodes_.clear();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void redis_cluster::start_node(int port) {
  const auto p = std::to_string(port);
  nodes_.push_back(std::make_unique<child_process>(std::vector<std::string>{
      // The bus port is chosen too: the default (port + 10000) may be out of range or taken.
      "redis-server",
      "--port",
      p,
      "--cluster-port",
      std::to_string(free_port()),
      "--bind",
      "127.0.0.1",
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      dir_ + "/nodes-" + p + ".conf",
      "--cluster-node-timeout",
      "1000",
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "no",
      "--loglevel",
      "warning",
      "--dir",
      dir_}));
}

std::string redis_cluster::cli(int port, const std::vector<std::string>& args) const {
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
