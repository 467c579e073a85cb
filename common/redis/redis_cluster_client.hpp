#pragma once
// The Redis thread for a Redis Cluster: the interface of redis_client (which hands itself over to
// this class when redis_options::cluster_nodes is set), over one command connection and (with
// `subscriber`) one pub/sub connection per master, all on one Asio io_context and one thread.
//
// - Topology: CLUSTER SLOTS, read from a seed node at start, again after a redirect, while a
//   node is unreachable, and every cluster_refresh. A master that appears gets its connections;
//   one that no longer serves slots (a failed-over master) is let go, and what waited for it
//   goes to the new owners.
// - Commands are routed by the slot of their key (cluster_slots.hpp: routing_key); MOVED updates
//   the slot map and sends the command to the new owner, ASK sends it there once after ASKING,
//   TRYAGAIN and CLUSTERDOWN retry shortly. Keyless commands go to any reachable master.
// - The tier's channels are shard channels: PUBLISH is sent as SPUBLISH (in scripts too: their
//   text is loaded with SPUBLISH), SUBSCRIBE as SSUBSCRIBE on the subscriber connection of the
//   channel's shard, so each master carries only its slots' messages. Each shard's connection has
//   its own channel_table (confirmations, linger, resubscription carry over). A channel Redis ends
//   (`sunsubscribe`: its slot moved) is subscribed again where the redirect and the refreshed
//   topology say; its holders hear it again (`again`), which makes a private stream check for a gap.
// - The control channel stays classic: the edge's probe is one PUBLISH, which the cluster bus
//   delivers to every node, and it is passed on only once it came back through every shard's
//   subscriber connection, so a readiness probe proves every shard delivers.
// - command_connected(): at least one master is reachable (commands for an unreachable one wait
//   in its backlog, bounded by command_timeout and max_backlog, while the others flow);
//   subscriber_connected(): every master's subscriber connection is up.
//
// Threading: as redis_client (use_loop() included).

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/redis/redis_client.hpp"

namespace tickstream::common {

class redis_cluster_client {
 public:
  redis_cluster_client(redis_options options, redis_client::message_handler on_message = {});
  ~redis_cluster_client();
  redis_cluster_client(const redis_cluster_client&) = delete;
  redis_cluster_client& operator=(const redis_cluster_client&) = delete;

  void set_activation_handler(redis_client::activation_handler on_active);
  void set_refusal_handler(redis_client::refusal_handler on_refused);
  void use_loop(boost::asio::io_context& loop);
  void start();
  void stop();

  void command(const std::vector<std::string>& args, redis_client::reply_handler done = {});
  void eval(const redis_script& script, const std::vector<std::string>& keys, const std::vector<std::string>& args,
            redis_client::reply_handler done = {});
  void subscribe(std::string channel, holder_id holder, std::uint64_t tag = 0);
  void unsubscribe(std::string channel, holder_id holder);
  void subscribe(std::string channel);
  void post(redis_client::task fn);

  bool command_connected() const noexcept;
  bool subscriber_connected() const noexcept;
  std::uint64_t reconnects() const noexcept;
  std::uint64_t refused_subscriptions() const noexcept;
  std::string last_error() const;
  std::size_t channel_count() const noexcept;
  std::size_t held_channel_count() const noexcept;
  std::span<const channel_holder> holders(std::string_view channel) const;
  // The masters the client has connections to now (tests, logs).
  std::size_t shard_count() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace tickstream::common
