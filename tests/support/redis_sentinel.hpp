#pragma once
// A real Sentinel deployment for one test, on loopback: a master, its replicas, and sentinels
// watching it (quorum 2; 1 for a lone sentinel) with short timeouts, so that a killed master is
// replaced within a few seconds (down after 1 s). Ready once every sentinel sees every replica
// and every other sentinel.
// No persistence; removed with the object.

#include <memory>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace tickstream::test {

class redis_sentinel_set {
 public:
  explicit redis_sentinel_set(int replicas = 1, int sentinels = 3, std::string master_name = "tsmaster");
  ~redis_sentinel_set();

  const std::string& master_name() const noexcept { return master_name_; }
  // The data nodes' ports, the first master first; the sentinels' ports.
  const std::vector<int>& node_ports() const noexcept { return node_ports_; }
  const std::vector<int>& sentinel_ports() const noexcept { return sentinel_ports_; }
  // redis+sentinel://127.0.0.1:<s1>,127.0.0.1:<s2>,.../<master name>
  std::string url() const;
  // The master's port as the first sentinel that answers names it (0: none does).
  int master_port() const;
  // SIGKILL of the data node on port, as in a crash.
  void kill_node(int port);
  // Starts the killed node on port again, empty, as a replica of the current master, and waits
  // until it has synced and every sentinel sees it as a usable replica.
  void restart_node(int port);

 private:
  std::string dir_;
  std::string master_name_;
  std::vector<int> node_ports_;
  std::vector<int> sentinel_ports_;
  std::vector<std::unique_ptr<child_process>> nodes_;
  std::vector<std::unique_ptr<child_process>> sentinels_;
};

}  // namespace tickstream::test
