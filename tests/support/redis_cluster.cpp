#include "tests/support/redis_cluster.hpp"

#include <cstdlib>
#include <filesystem>
#include <sstream>
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

// A replica takes over however recently it synced (cluster-replica-validity-factor 0: a test's
// cluster is seconds old), and a master down leaves the others serving their slots.
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
      "--cluster-require-full-coverage",
      "no",
      "--cluster-replica-validity-factor",
      "0",
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

int redis_cluster::owner(int slot) const {
  // "<id> <addr> <flags> <master> <ping> <pong> <epoch> <link> <slot or range>..." per node: the
  // line flagged "myself" of a master whose ranges hold slot.
  for (const int port : ports_) {
    const auto nodes = cli(port, {"CLUSTER", "NODES"});
    std::istringstream lines(nodes);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.find("myself") == std::string::npos || line.find("master") == std::string::npos) continue;
      std::istringstream fields(line);
      std::string f;
      for (int i = 0; i < 8 && fields >> f; ++i) {
      }
      while (fields >> f) {
        if (f.starts_with('[')) continue;  // a slot being migrated
        const auto dash = f.find('-');
        const int lo = std::stoi(f.substr(0, dash));
        const int hi = dash == std::string::npos ? lo : std::stoi(f.substr(dash + 1));
        if (slot >= lo && slot <= hi) return port;
      }
    }
  }
  return 0;
}

void redis_cluster::move_slot(int slot, int to_port) {
  const int from_port = owner(slot);
  if (from_port == 0) throw std::runtime_error("no master serves the slot");
  if (from_port == to_port) return;
  const auto id = [&](int port) {
    auto out = cli(port, {"CLUSTER", "MYID"});
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  };
  const auto from_id = id(from_port);
  const auto to_id = id(to_port);
  const auto s = std::to_string(slot);
  const auto ok = [](const std::string& reply, const char* step) {
    if (reply.rfind("OK", 0) != 0 && reply.rfind("NOKEY", 0) != 0) {
      throw std::runtime_error(std::string(step) + ": " + reply);
    }
  };
  ok(cli(to_port, {"CLUSTER", "SETSLOT", s, "IMPORTING", from_id}), "SETSLOT IMPORTING");
  ok(cli(from_port, {"CLUSTER", "SETSLOT", s, "MIGRATING", to_id}), "SETSLOT MIGRATING");
  for (;;) {
    std::vector<std::string> keys;
    std::istringstream in(cli(from_port, {"CLUSTER", "GETKEYSINSLOT", s, "100"}));
    for (std::string k; std::getline(in, k);) {
      if (!k.empty()) keys.push_back(k);
    }
    if (keys.empty()) break;
    std::vector<std::string> migrate{"MIGRATE", "127.0.0.1", std::to_string(to_port), "", "0", "5000", "KEYS"};
    migrate.insert(migrate.end(), keys.begin(), keys.end());
    ok(cli(from_port, migrate), "MIGRATE");
  }
  ok(cli(to_port, {"CLUSTER", "SETSLOT", s, "NODE", to_id}), "SETSLOT NODE (target)");
  ok(cli(from_port, {"CLUSTER", "SETSLOT", s, "NODE", to_id}), "SETSLOT NODE (source)");
  for (const int port : ports_) {
    if (port != from_port && port != to_port && cli(port, {"ROLE"}).rfind("master", 0) == 0) {
      (void)cli(port, {"CLUSTER", "SETSLOT", s, "NODE", to_id});
    }
  }
}

void redis_cluster::kill(int port) {
  for (std::size_t i = 0; i < ports_.size(); ++i) {
    if (ports_[i] == port) nodes_[i]->kill();
  }
}

std::string redis_cluster::cli(int port, const std::vector<std::string>& args) const { return redis_cli(port, args); }

}  // namespace tickstream::test
