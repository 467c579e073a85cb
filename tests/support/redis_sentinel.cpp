#include "tests/support/redis_sentinel.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "tests/support/redis_process.hpp"
#include "tests/support/wait.hpp"

namespace tickstream::test {

namespace {

std::vector<std::string> node_args(int port, const std::string& dir, int master_port) {
  std::vector<std::string> a{
      "redis-server", "--port", std::to_string(port), "--bind",  "127.0.0.1", "--save", "", "--appendonly", "no",
      "--daemonize",  "no",     "--loglevel",         "warning", "--dir",     dir};
  if (master_port != 0) a.insert(a.end(), {"--replicaof", "127.0.0.1", std::to_string(master_port)});
  return a;
}

// The value after key in redis-cli's output of a flat key/value reply (SENTINEL MASTER).
std::string field(const std::string& reply, const std::string& key) {
  const auto at = reply.find(key + "\n");
  if (at == std::string::npos || (at != 0 && reply[at - 1] != '\n')) return {};
  const auto start = at + key.size() + 1;
  return reply.substr(start, reply.find('\n', start) - start);
}

}  // namespace

redis_sentinel_set::redis_sentinel_set(int replicas, int sentinels, std::string master_name)
    : master_name_(std::move(master_name)) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "tickstream-sentinel-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  int port = 0;
  nodes_.push_back(spawn_redis([&](int p) { return node_args(p, dir_, 0); }, port));
  node_ports_.push_back(port);
  const int master = port;
  for (int i = 0; i < replicas; ++i) {
    nodes_.push_back(spawn_redis([&](int p) { return node_args(p, dir_, master); }, port));
    node_ports_.push_back(port);
  }
  for (const int replica : std::vector<int>(node_ports_.begin() + 1, node_ports_.end())) {
    if (!wait_until([&] {
          return redis_cli(replica, {"INFO", "replication"}).find("master_link_status:up") != std::string::npos;
        })) {
      throw std::runtime_error("a replica did not sync");
    }
  }
  for (int i = 0; i < sentinels; ++i) {
    sentinels_.push_back(spawn_redis(
        [&](int p) {
          // A sentinel rewrites its configuration file: one of its own.
          const auto conf = dir_ + "/sentinel-" + std::to_string(p) + ".conf";
          std::ofstream(conf) << "port " << p << "\nbind 127.0.0.1\ndaemonize no\nloglevel warning\ndir " << dir_
                              << "\nsentinel monitor " << master_name_ << " 127.0.0.1 " << master << " "
                              << (sentinels > 1 ? 2 : 1) << "\n"
                              << "sentinel down-after-milliseconds " << master_name_ << " 1000\n"
                              << "sentinel failover-timeout " << master_name_ << " 2000\n"
                              << "sentinel parallel-syncs " << master_name_ << " 1\n";
          return std::vector<std::string>{"redis-server", conf, "--sentinel"};
        },
        port));
    sentinel_ports_.push_back(port);
  }
  // Sentinels find the replicas and each other through the master (hello messages every 2 s).
  for (const int s : sentinel_ports_) {
    if (!wait_until(
            [&] {
              const auto m = redis_cli(s, {"SENTINEL", "MASTER", master_name_});
              return field(m, "num-slaves") == std::to_string(replicas) &&
                     field(m, "num-other-sentinels") == std::to_string(sentinels - 1);
            },
            std::chrono::seconds(15))) {
      throw std::runtime_error("the sentinels did not find each other and the replicas");
    }
  }
}

redis_sentinel_set::~redis_sentinel_set() {
  sentinels_.clear();
  nodes_.clear();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string redis_sentinel_set::url() const {
  std::string out = "redis+sentinel://";
  for (std::size_t i = 0; i < sentinel_ports_.size(); ++i) {
    if (i > 0) out += ',';
    out += "127.0.0.1:" + std::to_string(sentinel_ports_[i]);
  }
  return out + "/" + master_name_;
}

int redis_sentinel_set::master_port() const {
  for (const int s : sentinel_ports_) {
    const auto reply = redis_cli(s, {"SENTINEL", "get-master-addr-by-name", master_name_});
    const auto nl = reply.find('\n');
    if (nl == std::string::npos || nl + 1 >= reply.size()) continue;
    return std::atoi(reply.c_str() + nl + 1);
  }
  return 0;
}

void redis_sentinel_set::restart_node(int port) {
  // Started as a replica of the current master, as an operator re-adds a node (a returning old
  // master left to the sentinels is converted only after 8 s).
  const int master = master_port();
  for (std::size_t i = 0; i < node_ports_.size(); ++i) {
    if (node_ports_[i] != port) continue;
    nodes_[i] = std::make_unique<child_process>(node_args(port, dir_, master));
  }
  if (!wait_until(
          [&] {
            return redis_cli(port, {"INFO", "replication"}).find("master_link_status:up") != std::string::npos;
          },
          std::chrono::seconds(20))) {
    throw std::runtime_error("the restarted node did not become a replica");
  }
  for (const int s : sentinel_ports_) {
    if (!wait_until(
            [&] {
              // SENTINEL REPLICAS, flat: one "name" ... "flags" ... block per replica.
              const auto all = redis_cli(s, {"SENTINEL", "REPLICAS", master_name_});
              const auto at = all.find("name\n127.0.0.1:" + std::to_string(port) + "\n");
              if (at == std::string::npos) return false;
              const auto next = all.find("\nname\n", at + 1);
              const auto block = all.substr(at, next == std::string::npos ? std::string::npos : next - at);
              return field(block, "flags") == "slave" && field(block, "master-link-status") == "ok";
            },
            std::chrono::seconds(20))) {
      throw std::runtime_error("the sentinels do not see the restarted node as a replica");
    }
  }
}

void redis_sentinel_set::kill_node(int port) {
  for (std::size_t i = 0; i < node_ports_.size(); ++i) {
    if (node_ports_[i] == port && nodes_[i]) nodes_[i]->kill();
  }
}

}  // namespace tickstream::test
