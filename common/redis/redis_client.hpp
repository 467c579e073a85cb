#pragma once
// The Redis thread: all Redis I/O of a process on one Asio io_context, over plain TCP or TLS
// (a thread of its own, or, with use_loop(), the caller's event loop).
// The protocol is redis_pipeline's (RESP encoding, replies matched to commands, pub/sub frames);
// this is its I/O shell: sockets, timers, reconnects.
//
// Other threads hand work to it through a mutex-guarded queue and one posted wake-up; everything
// queued between two wake-ups is written as one pipeline. There are two connections: one for
// commands, and (when enabled) one in subscribed mode for pub/sub. Both reconnect with exponential
// backoff and jitter; after a reconnect every channel held is subscribed again (the channel_table
// keeps the rules), and commands whose connection dropped before a reply are re-sent
// (at-least-once delivery). An error reply fails the one command it answers; a refused SUBSCRIBE
// fails that channel's holders only (they hear it through the refusal handler).
//
// Threading: every public member is thread-safe except holders(). Callbacks (replies, messages,
// activations, tasks) run on the Redis thread and must be quick: they must never block or do
// client I/O there. With use_loop(), "the Redis thread" is the thread that runs that loop: a
// message reaches its handler in the same turn of the loop as the read that brought it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/redis/channel_table.hpp"
#include "common/redis/keys.hpp"
#include "common/redis/redis_script.hpp"
#include "common/redis/resp.hpp"
#include "common/redis_access.hpp"
#include "common/result.hpp"

namespace boost::asio {
class io_context;
}

namespace tickstream::common {

struct redis_options {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;  // sent with AUTH after each connect when non-empty
  std::string user;      // the ACL user for AUTH (empty: the default user, "AUTH <password>")
  // TLS (rediss://): the server's certificate is checked against tls_ca_file (empty: the system's
  // CAs) and against tls_server_name (empty: host), which is also sent as SNI. A client
  // certificate and its key are presented when the server asks for one (mutual TLS).
  bool tls = false;
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_server_name;
  // Sentinel: when sentinels is not empty, host and port are not used. Before each connect the
  // sentinels are asked in turn for the address of the master named sentinel_master; the node
  // reached must answer ROLE with "master" (else it is dropped and the sentinels asked again), and
  // a +switch-master announced by a sentinel moves both connections to the new master at once.
  // sentinel_user and sentinel_password: AUTH on the sentinels (the password empty: no AUTH). TLS,
  // when on, applies to the sentinels as to the master.
  std::vector<redis_endpoint> sentinels;
  std::string sentinel_master;
  std::string sentinel_user;
  std::string sentinel_password;
  // A command without a reply this long after it was queued fails with "timeout" (its reply, if
  // it comes later, is dropped); the connection stays. 0: commands wait as long as it takes.
  std::chrono::milliseconds command_timeout{0};
  // Reconnect delays double from min to max; each is drawn uniformly from [delay/2, delay] so that
  // a fleet of processes does not reconnect in lock-step after a Redis restart.
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};
  // A connect attempt that has neither succeeded nor failed by then is abandoned and retried.
  std::chrono::milliseconds connect_timeout{3000};
  // Commands held while disconnected; beyond this new commands fail with "queue_full" instead of
  // growing memory without bound during a long outage.
  std::size_t max_backlog = 200'000;
  // A command is re-sent at most this many times after losing its connection.
  int max_attempts = 5;
  // A channel whose last reference goes stays subscribed this long, so a client that reconnects or
  // flips between symbols does not cost an UNSUBSCRIBE/SUBSCRIBE round trip each time. 0: none.
  std::chrono::milliseconds unsubscribe_linger{0};
  // Open the pub/sub connection as well.
  bool subscriber = false;
  // Always subscribed on the pub/sub connection: it carries the liveness probes, and keeps the
  // connection in subscribed mode whatever else comes and goes.
  std::string control_channel = std::string(default_control_channel);
  // Redis Cluster: the seed nodes the topology is first read from (redis+cluster://); empty: one
  // Redis at host:port. See redis_cluster_client.hpp.
  std::vector<redis_endpoint> cluster_nodes;
  // How often a cluster's topology is read again, besides after a redirect or a lost node.
  std::chrono::milliseconds cluster_refresh{5000};
  // Name used in logs.
  std::string name = "redis";
  // Runs on the Redis thread after each round of I/O (every message callback of that round has
  // run): lets a message handler gather work and hand it on once per round instead of per message.
  std::function<void()> after_io;
};

// The user and TLS settings of access (flags, or a URL) in o.
inline void apply_redis_access(redis_options& o, const redis_access& access) {
  o.user = access.user;
  o.tls = access.tls;
  o.tls_ca_file = access.tls_ca_file;
  o.tls_cert_file = access.tls_cert_file;
  o.tls_key_file = access.tls_key_file;
  o.tls_server_name = access.tls_server_name;
  o.sentinels = access.sentinels;
  o.sentinel_master = access.sentinel_master;
  o.sentinel_user = access.sentinel_user;
  o.sentinel_password = access.sentinel_password;
  o.cluster_nodes = access.cluster_nodes;
}

class redis_cluster_client;

class redis_client {
 public:
  // The reply to one command, or an error: "redis_error" (Redis answered with an error),
  // "connection_lost" (gave up after max_attempts), "timeout" (command_timeout), "queue_full",
  // "shutting_down".
  using reply_handler = std::function<void(result<redis_reply>)>;
  using message_handler = std::function<void(std::string_view channel, std::string_view payload)>;
  using task = std::function<void()>;
  // Redis confirmed a channel for one of its holders (again after each reconnect).
  using activation_handler = std::function<void(const channel_activation&)>;
  // Redis refused a channel one of its holders took (an ACL): the holder no longer holds it.
  using refusal_handler = std::function<void(const channel_refusal&)>;

  redis_client(redis_options options, message_handler on_message = {});
  ~redis_client();
  redis_client(const redis_client&) = delete;
  redis_client& operator=(const redis_client&) = delete;

  // Where activations go; set before start().
  void set_activation_handler(activation_handler on_active);
  // Where refusals go; set before start().
  void set_refusal_handler(refusal_handler on_refused);
  // Before start(): run on loop instead of a thread of its own. The caller's thread runs loop;
  // the client must be stopped on that thread, or once loop no longer runs (and then before loop
  // is destroyed), and loop must not run again after the client is destroyed.
  void use_loop(boost::asio::io_context& loop);
  // Starts the thread (or, with use_loop(), posts its start to the loop) and the first connection
  // attempts. Call once.
  void start();
  // Stops the thread. Commands without a reply yet complete with "shutting_down". Idempotent.
  // Must not be called from the Redis thread (except with use_loop(), see there).
  void stop();

  // Queues one command ("PUBLISH", channel, payload...). done, if set, runs on the Redis thread.
  void command(const std::vector<std::string>& args, reply_handler done = {});
  // Queues one run of a Lua script with EVALSHA. The script is loaded on each command connection
  // before anything that uses it is sent, so after a reconnect (a restarted Redis has no scripts)
  // it runs in order with the other commands; if Redis still answers NOSCRIPT (SCRIPT FLUSH on a
  // live connection), the call is sent again as EVAL, after whatever was sent meanwhile.
  void eval(const redis_script& script, const std::vector<std::string>& keys, const std::vector<std::string>& args,
            reply_handler done = {});
  // holder takes a reference to channel (at most one per holder; the first subscribes). The
  // activation handler hears (channel, holder, tag) once Redis has confirmed, at once if it
  // already has, and again after every reconnect.
  void subscribe(std::string channel, holder_id holder, std::uint64_t tag = 0);
  // holder drops its reference; the last one unsubscribes (after unsubscribe_linger).
  void unsubscribe(std::string channel, holder_id holder);
  // channel stays subscribed for the client's whole life, like the control channel; nobody is told.
  void subscribe(std::string channel);
  // Runs fn on the Redis thread, in order with the other queued work.
  void post(task fn);

  bool command_connected() const noexcept;
  bool subscriber_connected() const noexcept;
  std::uint64_t reconnects() const noexcept;
  // SUBSCRIBEs Redis refused so far.
  std::uint64_t refused_subscriptions() const noexcept;
  // Why the last connection attempt or connection failed ("" before any failure): for logs,
  // readiness reasons and tests.
  std::string last_error() const;
  // Number of channels held or subscribed for good (the control channel not included).
  std::size_t channel_count() const noexcept;
  // Number of channels with at least one holder.
  std::size_t held_channel_count() const noexcept;
  // The holders of channel right now. Redis thread only (a message or activation handler); the
  // span is valid until the handler returns.
  std::span<const channel_holder> holders(std::string_view channel) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::unique_ptr<redis_cluster_client> cluster_;  // instead of impl_ when options.cluster_nodes is set
};

}  // namespace tickstream::common
