// The tier on a Redis Cluster: a real 3-master cluster, two edges in this process (one with one
// worker, the Redis connections on its loop; one with two and a Redis thread) and a publisher and
// private store as ingest runs them, all with redis+cluster settings. Ticks and private events
// flow through both edges with one sharded subscription per channel per edge on the owning master;
// slots migrated under traffic keep ticks flowing and users' streams gap-free; a master killed
// stops only its own channels, and readiness says so.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "common/clock.hpp"
#include "common/event_codec.hpp"
#include "common/redis/cluster_slots.hpp"
#include "common/redis/keys.hpp"
#include "common/redis/redis_client.hpp"
#include "edge/app.hpp"
#include "ingest/publish/private_store.hpp"
#include "tests/edge/support/edge_fixture.hpp"
#include "tests/edge/support/user_clients.hpp"
#include "tests/support/redis_cluster.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::wait_until;

namespace {

common::redis_options cluster_options(const test::redis_cluster& cluster, const char* name) {
  common::redis_options o;
  for (const int port : cluster.ports()) o.cluster_nodes.push_back({"127.0.0.1", port});
  o.port = cluster.ports().front();
  o.reconnect_min = 20ms;
  o.reconnect_max = 500ms;
  o.command_timeout = 3000ms;
  o.name = name;
  return o;
}

std::unique_ptr<edge::app> cluster_edge(const test::redis_cluster& cluster, const std::string& node, int threads) {
  edge::app_config c;
  c.listen_host = "127.0.0.1";
  c.port = 0;
  c.threads = threads;
  c.limits.batch_window = 0ms;
  c.limits.max_message_bytes = 4096;
  c.unsubscribe_linger_ms = 200;
  c.shutdown_grace_ms = 1000;
  c.probe_interval_ms = 200;
  c.node_id = node;
  c.jwt_algorithms = "HS256";
  c.jwt_hs_secret = test::user_secret;
  c.max_connects_per_ip = 0;
  c.redis_port = cluster.ports().front();
  for (const int port : cluster.ports()) c.redis_access.cluster_nodes.push_back({"127.0.0.1", port});
  auto e = test::make_edge(c);
  e->start();
  return e;
}

int readyz(const edge::app& e) {
  auto r = client::http_get("127.0.0.1", std::to_string(e.port()), "/readyz", 2s);
  return r ? static_cast<int>(r->status) : 0;
}

// The tier around a cluster: two edges, ingest's publisher side, and the users' store.
struct cluster_tier {
  explicit cluster_tier(int replicas = 0) : cluster(3, replicas) { start(); }
  test::redis_cluster cluster;
  // One edge with one worker (the Redis connections on its loop), one with two (a Redis thread).
  std::unique_ptr<edge::app> a = cluster_edge(cluster, "edge-a", 1);
  std::unique_ptr<edge::app> b = cluster_edge(cluster, "edge-b", 2);
  common::redis_client redis{cluster_options(cluster, "test-ingest")};
  ingest::private_store store{redis, 1000};
  std::atomic<int> published{0};
  std::atomic<int> publish_failures{0};

  void start() {
    redis.start();
    REQUIRE(wait_until([&] { return readyz(*a) == 200 && readyz(*b) == 200; }));
  }

  // One tick as ingest publishes it (PUBLISH, sent as SPUBLISH on a cluster); size carries seq.
  void tick(const std::string& symbol, int seq) {
    common::price_update t;
    t.symbol = symbol;
    t.price = "10.5";
    t.size = std::to_string(seq);
    t.source = "test";
    t.recv_time_us = common::now_us();
    t.source_time_us = t.recv_time_us;
    redis.command({"PUBLISH", common::market_channel(symbol), common::encode_event(t)},
                  [this](const common::result<common::redis_reply>& r) {
                    if (!r) ++publish_failures;
                    ++published;
                  });
  }

  // Stores one order event of user and returns its seq (0 on failure).
  std::int64_t order(const std::string& user, int n) {
    std::atomic<std::int64_t> seq{-1};
    store.store(order_event(user, n), [&](common::result<std::int64_t> r) { seq = r ? r.value() : 0; });
    REQUIRE(wait_until([&] { return seq.load() >= 0; }));
    return seq.load();
  }

  static common::order_update order_event(const std::string& user, int n) {
    common::order_update o;
    o.header = test::header_for(user);
    o.order_id = "o" + std::to_string(n);
    o.broker_order_id = "b" + std::to_string(n);
    o.symbol = "AAPL";
    o.side = "buy";
    o.order_type = "limit";
    o.status = "new";
    o.qty = "1";
    o.submitted_at_us = o.header.time_us;
    return o;
  }

  long long shard_subscribers(int port, const std::string& channel) const {
    const auto out = cluster.cli(port, {"PUBSUB", "SHARDNUMSUB", channel});
    const auto nl = out.find('\n');
    return nl == std::string::npos ? -1 : std::stoll(out.substr(nl + 1));
  }
  int owner(const std::string& channel) const { return cluster.owner(common::key_slot(channel)); }
};

// Symbols whose channels live on `count` different masters.
std::vector<std::string> symbols_on_every_master(const cluster_tier& t, std::size_t count = 3) {
  std::vector<std::string> out;
  std::set<int> owners;
  for (int i = 0; owners.size() < count; ++i) {
    const auto s = "C" + std::to_string(i);
    if (owners.insert(t.owner(common::market_channel(s))).second) out.push_back(s);
  }
  return out;
}

// Reads one client's frames: ticks per symbol (their size) and stored events' seqs.
struct reader {
  explicit reader(client::ws_client& w) : ws(w) {}
  client::ws_client& ws;
  std::map<std::string, std::vector<int>> ticks;
  std::vector<std::int64_t> seqs;
  int resyncs = 0;

  // Reads until pred() holds or timeout; false on timeout.
  template <class Pred>
  bool until(Pred pred, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      auto f = ws.next(100ms);
      if (!f) {
        if (ws.closed()) return false;
        continue;
      }
      take(test::parse(*f));
    }
    return true;
  }
  void take(const rapidjson::Value& d) {
    const std::string_view type = d["type"].GetString();
    if (type == "batch") {
      for (const auto& e : d["events"].GetArray()) take(e);
    } else if (type == "price_update") {
      ticks[d["symbol"].GetString()].push_back(d["size"].GetInt());
    } else if (type == "resync") {
      ++resyncs;
      seqs.push_back(-1);  // a gap the client was told of
      seqs.push_back(d["seq"].GetInt64());
    } else if (type != "snapshot" && d.HasMember("seq")) {
      seqs.push_back(d["seq"].GetInt64());
    }
  }
  int last_tick(const std::string& symbol) const {
    const auto it = ticks.find(symbol);
    return it == ticks.end() || it->second.empty() ? -1 : it->second.back();
  }
};

void subscribe_orders(client::ws_client& ws) {
  REQUIRE(ws.send(R"({"type":"subscribe","channels":["orders"]})"));
  auto sub = ws.next(5s);
  REQUIRE(sub);
  REQUIRE(test::type_of(*sub) == "subscribed");
  auto snap = ws.next(5s);
  REQUIRE(snap);
  REQUIRE(test::type_of(*snap) == "snapshot");
}

// Each seq follows the one before, except right after a resync (-1, then the resync's seq).
bool consecutive(const std::vector<std::int64_t>& seqs, std::int64_t last) {
  if (seqs.empty()) return last == 0;
  for (std::size_t i = 1; i < seqs.size(); ++i) {
    if (seqs[i] == -1 || seqs[i - 1] == -1) continue;
    if (seqs[i] != seqs[i - 1] + 1) return false;
  }
  return seqs.back() == last;
}

}  // namespace

TEST_CASE("cluster: ticks and private events flow through two edges, one shard subscription per edge", "[cluster]") {
  cluster_tier t;
  const auto symbols = symbols_on_every_master(t);
  std::string list = "[";
  for (const auto& s : symbols) list += (list.size() > 1 ? ",\"" : "\"") + s + "\"";
  list += "]";
  auto ta = test::connect_as(t.a->port(), "watcher");
  auto tb = test::connect_as(t.b->port(), "watcher");
  REQUIRE(ta);
  REQUIRE(tb);
  test::subscribe(*ta, list);
  test::subscribe(*tb, list);
  auto ua = test::connect_as(t.a->port(), "carol");
  auto ub = test::connect_as(t.b->port(), "carol");
  subscribe_orders(*ua);
  subscribe_orders(*ub);

  // One sharded subscription per channel per edge, on the channel's master and nowhere else.
  std::vector<std::string> channels;
  for (const auto& s : symbols) channels.push_back(common::market_channel(s));
  channels.push_back(common::user_channel("carol"));
  for (const auto& ch : channels) {
    const int owner = t.owner(ch);
    CHECK(t.shard_subscribers(owner, ch) == 2);
    for (const int port : t.cluster.ports()) {
      if (port != owner) CHECK(t.shard_subscribers(port, ch) == 0);
    }
  }

  for (int seq = 1; seq <= 3; ++seq) {
    for (const auto& s : symbols) t.tick(s, seq);
  }
  for (auto* ws : {ta.get(), tb.get()}) {
    reader r{*ws};
    REQUIRE(r.until([&] {
      return std::all_of(symbols.begin(), symbols.end(), [&](const auto& s) { return r.last_tick(s) == 3; });
    }));
    for (const auto& s : symbols) CHECK(r.ticks[s] == std::vector<int>{1, 2, 3});
  }
  for (int n = 1; n <= 5; ++n) CHECK(t.order("carol", n) == n);
  for (auto* ws : {ua.get(), ub.get()}) {
    reader r{*ws};
    REQUIRE(r.until([&] { return r.seqs.size() == 5; }));
    CHECK(consecutive(r.seqs, 5));
  }
  CHECK(t.publish_failures.load() == 0);
}

TEST_CASE("cluster: slots migrated again and again keep ticks flowing and streams gap-free", "[cluster][faults]") {
  cluster_tier t;
  const std::string hot = "HOT";
  const std::string user = "dave";
  auto ta = test::connect_as(t.a->port(), "watcher");
  auto tb = test::connect_as(t.b->port(), "watcher");
  REQUIRE(ta);
  REQUIRE(tb);
  test::subscribe(*ta, R"(["HOT"])");
  test::subscribe(*tb, R"(["HOT"])");
  auto ua = test::connect_as(t.a->port(), user);
  auto ub = test::connect_as(t.b->port(), user);
  subscribe_orders(*ua);
  subscribe_orders(*ub);

  // Traffic all along: a tick every 5 ms, a private event every 20 ms.
  std::atomic<bool> stop{false};
  std::atomic<int> ticks_sent{0};
  std::atomic<std::int64_t> last_seq{0};
  std::atomic<int> store_failures{0};
  std::thread traffic([&] {
    for (int i = 1; !stop; ++i) {
      t.tick(hot, i);
      ticks_sent = i;
      if (i % 4 == 0) {
        t.store.store(cluster_tier::order_event(user, i), [&](common::result<std::int64_t> r) {
          if (!r) {
            ++store_failures;
          } else if (r.value() > last_seq) {
            last_seq = r.value();
          }
        });
      }
      std::this_thread::sleep_for(5ms);
    }
  });

  reader ra{*ta};
  reader rb{*tb};
  const int hot_slot = common::key_slot(common::market_channel(hot));
  const int user_slot = common::key_slot(common::user_channel(user));
  constexpr int moves = 10;
  std::chrono::milliseconds worst{0};
  for (int i = 0; i < moves; ++i) {
    const int slot = i % 2 == 0 ? hot_slot : user_slot;
    const auto& ports = t.cluster.ports();
    const int from = t.cluster.owner(slot);
    const int to = ports[(std::find(ports.begin(), ports.end(), from) - ports.begin() + 1) % ports.size()];
    t.cluster.move_slot(slot, to);
    // Ticks published after the move reach both edges' clients.
    const int after = ticks_sent.load();
    const auto moved_at = std::chrono::steady_clock::now();
    REQUIRE(ra.until([&] { return ra.last_tick(hot) > after; }, 5s));
    REQUIRE(rb.until([&] { return rb.last_tick(hot) > after; }, 5s));
    worst = std::max(
        worst, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - moved_at));
  }
  stop = true;
  traffic.join();
  REQUIRE(wait_until([&] { return t.published.load() == ticks_sent.load(); }));
  WARN("slowest first tick after a slot move: " << worst.count() << " ms");
  CHECK(t.publish_failures.load() == 0);
  CHECK(store_failures.load() == 0);

  // Every stored event reached both of the user's connections, in order, without a gap or resync.
  const auto last = last_seq.load();
  REQUIRE(last > 0);
  reader pa{*ua};
  reader pb{*ub};
  REQUIRE(pa.until([&] { return !pa.seqs.empty() && pa.seqs.back() == last; }));
  REQUIRE(pb.until([&] { return !pb.seqs.empty() && pb.seqs.back() == last; }));
  CHECK(consecutive(pa.seqs, last));
  CHECK(consecutive(pb.seqs, last));
  CHECK(pa.seqs.front() == 1);
  CHECK(pa.resyncs + pb.resyncs == 0);
  // Still one subscription per channel per edge, on the final owners.
  CHECK(t.shard_subscribers(t.owner(common::market_channel(hot)), common::market_channel(hot)) == 2);
  CHECK(t.shard_subscribers(t.owner(common::user_channel(user)), common::user_channel(user)) == 2);
}

TEST_CASE("cluster: a master killed stops its own channels only, and readiness says so", "[cluster][faults]") {
  cluster_tier t;
  const auto symbols = symbols_on_every_master(t);
  std::string list = "[";
  for (const auto& s : symbols) list += (list.size() > 1 ? ",\"" : "\"") + s + "\"";
  list += "]";
  auto ws = test::connect_as(t.a->port(), "watcher");
  REQUIRE(ws);
  test::subscribe(*ws, list);
  const int victim = t.owner(common::market_channel(symbols.front()));
  t.cluster.kill(victim);
  REQUIRE(wait_until([&] { return readyz(*t.a) == 503 && readyz(*t.b) == 503; }, 5s));
  reader r{*ws};
  for (int seq = 1; seq <= 3; ++seq) {
    for (std::size_t i = 1; i < symbols.size(); ++i) t.tick(symbols[i], seq);
  }
  REQUIRE(r.until([&] {
    return std::all_of(symbols.begin() + 1, symbols.end(), [&](const auto& s) { return r.last_tick(s) == 3; });
  }));
  for (std::size_t i = 1; i < symbols.size(); ++i) CHECK(r.ticks[symbols[i]] == std::vector<int>{1, 2, 3});
  CHECK(readyz(*t.a) == 503);
}

TEST_CASE("cluster: a master failed over keeps users' streams gap-free or resynced", "[cluster][faults]") {
  cluster_tier t(1);
  const std::string user = "erin";
  auto ua = test::connect_as(t.a->port(), user);
  auto ub = test::connect_as(t.b->port(), user);
  subscribe_orders(*ua);
  subscribe_orders(*ub);
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> last_seq{0};
  std::thread traffic([&] {
    for (int i = 1; !stop; ++i) {
      t.store.store(cluster_tier::order_event(user, i), [&](common::result<std::int64_t> r) {
        if (r && r.value() > last_seq) last_seq = r.value();
      });
      std::this_thread::sleep_for(10ms);
    }
  });
  REQUIRE(wait_until([&] { return last_seq.load() >= 5; }));
  const int victim = t.owner(common::user_channel(user));
  t.cluster.kill(victim);
  REQUIRE(wait_until([&] { return readyz(*t.a) == 503; }, 5s));
  // The replica takes over; both edges follow it and are ready again.
  REQUIRE(wait_until([&] { return readyz(*t.a) == 200 && readyz(*t.b) == 200; }, 20s));
  const auto at_failover = last_seq.load();
  REQUIRE(wait_until([&] { return last_seq.load() > at_failover + 5; }));
  stop = true;
  traffic.join();
  const auto last = last_seq.load();
  reader pa{*ua};
  reader pb{*ub};
  REQUIRE(pa.until([&] { return !pa.seqs.empty() && pa.seqs.back() >= last; }));
  REQUIRE(pb.until([&] { return !pb.seqs.empty() && pb.seqs.back() >= last; }));
  WARN("resyncs after the failover: " << pa.resyncs + pb.resyncs << ", last seq " << last);
  // No undetected gap: every jump in seq came with a resync.
  CHECK(consecutive(pa.seqs, pa.seqs.back()));
  CHECK(consecutive(pb.seqs, pb.seqs.back()));
  CHECK(t.shard_subscribers(t.owner(common::user_channel(user)), common::user_channel(user)) == 2);
}
