#pragma once
// A real Redis Cluster for one test: `masters` redis-server processes in cluster mode on loopback
// ports (each with `replicas_per_master` replicas), joined with redis-cli --cluster create, ready
// once every node reports cluster_state:ok. No persistence; removed with the object. A master
// that fails leaves the other masters serving their slots (cluster-require-full-coverage no), as
// the tier's operations guide recommends.

#include <memory>
#include <string>
#include <vector>

#include "tests/support/child_process.hpp"

namespace tickstream::test {

class redis_cluster {
 public:
  explicit redis_cluster(int masters = 3, int replicas_per_master = 0);
  ~redis_cluster();

  // Every node's port, masters first as created.
  const std::vector<int>& ports() const noexcept { return ports_; }
  // Runs redis-cli with args against the node on port and returns its stdout.
  std::string cli(int port, const std::vector<std::string>& args) const;
  // The port of the master serving slot now (0 if none answers).
  int owner(int slot) const;
  // Moves slot to the master on to_port the way redis-cli --cluster reshard does: IMPORTING on the
  // target, MIGRATING on the source, MIGRATE of its keys, then SETSLOT NODE on the target, the
  // source and the other masters. Throws if a step fails.
  void move_slot(int slot, int to_port);
  // SIGKILLs the node on port.
  void kill(int port);

 private:
  std::vector<std::string> node_args(int port) const;

  std::string dir_;
  std::vector<int> ports_;
  std::vector<std::unique_ptr<child_process>> nodes_;
};

}  // namespace tickstream::test
