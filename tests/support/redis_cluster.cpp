#include "tests/support/redis_cluster.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "tests/support/redis_process.hpp"
#include "tests/support/wait.hpp"

namespace tickstream::test {

redis_cluster::redis_cluster(int masters, int replicas_per_master) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "tickstream-cluster-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  const int total = masters * (1 + replicas_per_master);
  for (int i = 0; i < total; ++i) {
    int port = 0;
    nodes_.push_back(spawn_redis([&](int p) { return node_args(p); }, port));
    ports_.push_back(port);
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

std::vector<std::string> redis_cluster::node_args(int port) const {
  const auto p = std::to_string(port);
  return std::vector<std::string>{
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
      dir_};
}

std::string redis_cluster::cli(int port, const std::vector<std::string>& args) const { return redis_cli(port, args); }

}  // namespace tickstream::test
