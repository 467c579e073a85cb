// Operations (issue 7): metrics after real traffic, readiness, admin stats, graceful drain.

#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <csignal>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "common/clock.hpp"
#include "common/event_codec.hpp"
#include "common/redis/redis_client.hpp"
#include "edge/app.hpp"
#include "ingest/publish/private_store.hpp"
#include "tests/edge/support/edge_fixture.hpp"
#include "tests/edge/support/user_clients.hpp"
#include "tests/support/tcp_proxy.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::wait_until;

namespace {

std::string tick_json(const std::string& symbol, const std::string& price) {
  common::price_update t;
  t.symbol = symbol;
  t.price = price;
  t.source_time_us = common::now_us();
  t.recv_time_us = t.source_time_us;
  t.source = "test";
  return common::encode_event(t);
}

int readyz(int port, std::string* body = nullptr) {
  auto r = client::http_get("127.0.0.1", std::to_string(port), "/readyz", 2s);
  if (!r) return 0;
  if (body != nullptr) *body = r->body;
  return static_cast<int>(r->status);
}

}  // namespace

TEST_CASE("metrics move with real traffic: connections, frames, bytes, latency, disconnect reasons", "[ops]") {
  test::edge_fixture fx;
  std::vector<std::unique_ptr<client::ws_client>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(fx.connect());
    test::subscribe(*clients.back(), R"(["AAPL"])");
  }
  for (int i = 0; i < 50; ++i) fx.redis.cli({"PUBLISH", "ts:{md:AAPL}", tick_json("AAPL", "1" + std::to_string(i))});
  for (auto& c : clients) {
    int got = 0;
    REQUIRE(wait_until([&] {
      while (auto f = c->next(10ms)) got += test::type_of(*f) == "price_update";
      return got == 50;
    }));
  }
  const auto m = fx.get("/metrics").body;
  CHECK(test::metric_value(m, "tickstream_edge_connections") == 3);
  CHECK(test::metric_value(m, "tickstream_edge_connections_accepted_total") == 3);
  CHECK(test::metric_value(m, "tickstream_edge_subscriptions") == 3);
  CHECK(test::metric_value(m, "tickstream_edge_frames_sent_total") >= 150);
  CHECK(test::metric_value(m, "tickstream_edge_bytes_sent_total") >= 150 * 100);
  CHECK(test::metric_value(m, "tickstream_edge_delivery_latency_seconds_count") >= 150);
  CHECK(test::metric_value(m, R"(tickstream_edge_delivery_latency_seconds_bucket{le="+Inf"})") >= 150);
  CHECK(test::metric_value(m, "tickstream_edge_redis_command_connected") == 1);
  CHECK(test::metric_value(m, "tickstream_edge_redis_subscriber_connected") == 1);
  CHECK(test::metric_value(m, "tickstream_edge_redis_channels") == 1);

  clients.back()->close();
  clients.pop_back();
  REQUIRE(wait_until([&] {
    return test::metric_value(fx.get("/metrics").body,
                              R"(tickstream_edge_disconnects_total{reason="closed_by_client"})") == 1;
  }));
  CHECK(test::metric_value(fx.get("/metrics").body, "tickstream_edge_connections") == 2);
}

TEST_CASE("ingest serves metrics, health and readiness", "[ops]") {
  test::redis_server redis;
  const int port = test::free_port();
  const std::string capture = "ops-capture.jsonl";
  {
    std::ofstream out(capture);
    for (int i = 0; i < 20; ++i) out << tick_json("MSFT", "40" + std::to_string(i)) << "\n";
    out << "{not json\n";
  }
  test::child_process ingest({TICKSTREAM_INGEST_BIN, "--input", capture, "--loop", "--speed", "max", "--redis-port",
                              std::to_string(redis.port()), "--metrics-listen", "127.0.0.1:" + std::to_string(port)});
  const auto get = [&](const std::string& target) {
    return client::http_get("127.0.0.1", std::to_string(port), target, 2s);
  };
  REQUIRE(wait_until([&] {
    auto r = get("/readyz");
    return r && r->status == 200;
  }));
  CHECK(get("/healthz")->status == 200);
  CHECK(get("/nope")->status == 404);
  REQUIRE(wait_until([&] {
    auto r = get("/metrics");
    return r && test::metric_value(r->body, "tickstream_ingest_publish_latency_seconds_count") >= 20;
  }));
  const auto m = get("/metrics")->body;
  CHECK(test::metric_value(m, R"(tickstream_ingest_events_total{kind="price_update",source="replay"})") >= 20);
  CHECK(test::metric_value(m, R"(tickstream_ingest_invalid_total{reason="invalid_json",source="replay"})") >= 1);
  CHECK(test::metric_value(m, "tickstream_ingest_redis_connected") == 1);
  redis.kill();
  REQUIRE(wait_until([&] {
    auto r = get("/readyz");
    return r && r->status == 503;
  }));
  CHECK(get("/readyz")->body == R"({"status":"not_ready","reason":"redis_down"})");
}

TEST_CASE("readiness follows Redis: lost, wedged subscriber, back", "[ops]") {
  test::redis_server redis;
  test::tcp_proxy proxy(redis.port());
  edge::app_config c;
  c.listen_host = "127.0.0.1";
  c.port = 0;
  c.threads = 1;
  c.redis_port = proxy.port();
  c.node_id = "ready-edge";
  c.probe_interval_ms = 200;
  c.shutdown_grace_ms = 500;
  auto app = test::make_edge(c);
  auto& e = *app;
  e.start();
  const int port = e.port();
  REQUIRE(wait_until([&] { return readyz(port) == 200; }));

  // A pub/sub connection that looks healthy but delivers nothing: the probe stops coming back.
  proxy.freeze_subscribers();
  std::string body;
  REQUIRE(wait_until([&] { return readyz(port, &body) == 503; }, 5s));
  CHECK(body == R"({"status":"not_ready","reason":"probe_not_returning"})");
  auto h = client::http_get("127.0.0.1", std::to_string(port), "/healthz", 2s);
  CHECK((h && h->status == 200));  // alive all the same
  proxy.thaw();
  REQUIRE(wait_until([&] { return readyz(port) == 200; }, 5s));

  redis.kill();
  REQUIRE(wait_until([&] { return readyz(port, &body) == 503; }, 5s));
  CHECK(body.find("redis_") != std::string::npos);
  redis.restart();
  REQUIRE(wait_until([&] { return readyz(port) == 200; }, 15s));
  e.stop();
}

TEST_CASE("admin stats are for admins: connections, top users, latency percentiles, disconnect rate", "[ops]") {
  auto fx = test::edge_fixture([](edge::app_config& c) {
    c.threads = 2;  // the stats list connections per worker
    c.jwt_algorithms = "HS256";
    c.jwt_hs_secret = test::user_secret;
  });
  const auto admin = test::token(
      "HS256", R"({"sub":"ops","roles":["admin"],"exp":)" + std::to_string(common::now_us() / 1'000'000 + 600) + "}",
      [](std::string_view in) { return test::hmac(test::user_secret, in); });
  auto a1 = test::connect_as(fx.edge->port(), "alice");
  auto a2 = test::connect_as(fx.edge->port(), "alice");
  auto b1 = test::connect_as(fx.edge->port(), "bob");
  test::subscribe(*a1, R"(["AAPL"])");
  fx.redis.cli({"PUBLISH", "ts:{md:AAPL}", tick_json("AAPL", "100")});
  REQUIRE(a1->next(5s));
  b1->close();
  const auto get = [&](const std::vector<std::pair<std::string, std::string>>& headers) {
    auto r = client::http_get("127.0.0.1", std::to_string(fx.edge->port()), "/api/admin/websocket-stats", 5s, headers);
    REQUIRE(r.ok());
    return std::move(r).value();
  };
  CHECK(get({}).status == 401);
  CHECK(get({test::bearer_for("alice")}).status == 403);
  rapidjson::Document d;
  REQUIRE(wait_until([&] {
    auto r = get({{"Authorization", "Bearer " + admin}});
    d = test::parse(r.body);
    return r.status == 200 && d["disconnects"]["last_minute"].GetInt() == 1;
  }));
  CHECK(d["connections"]["total"].GetInt() == 2);
  CHECK(d["connections"]["per_worker"].Size() == 2);
  CHECK(std::string(d["connections"]["top_users"][0]["user"].GetString()) == "alice");
  CHECK(d["connections"]["top_users"][0]["connections"].GetInt() == 2);
  CHECK(d["subscriptions"]["total"].GetInt() == 1);
  CHECK(d["delivery_latency_seconds"]["samples"].GetInt() >= 1);
  CHECK(d["delivery_latency_seconds"]["p99"].GetDouble() > 0);
}

TEST_CASE(
    "drain: every client gets reconnect then 1001, the edge exits in time, clients resume on the other edge "
    "through the load balancer without losing a private event",
    "[ops][drain][timing]") {
  test::redis_server redis;
  test::edge_process a(redis.port(), "edge-a", {"--drain-ms", "3000", "--probe-interval-ms", "500"});
  test::edge_process b(redis.port(), "edge-b", {"--drain-ms", "3000", "--probe-interval-ms", "500"});
  // haproxy in front, checking /readyz as the deployment does.
  const int lb_port = test::free_port();
  const std::string cfg = "drain-haproxy.cfg";
  {
    std::ofstream out(cfg);
    out << "global\n  maxconn 2000\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n"
           "  timeout server 60s\n  timeout tunnel 1h\n"
           "frontend fe\n  bind 127.0.0.1:"
        << lb_port
        << "\n  default_backend edges\n"
           "backend edges\n  balance roundrobin\n  option httpchk GET /readyz\n  http-check expect status 200\n"
           "  timeout check 2s\n  default-server inter 300ms fall 2 rise 2\n"
           "  server a 127.0.0.1:"
        << a.port << " check\n  server b 127.0.0.1:" << b.port << " check\n";
  }
  test::child_process lb({"haproxy", "-f", cfg, "-db"});
  const auto connect_lb = [&](const std::string& user) -> std::unique_ptr<client::ws_client> {
    // The load balancer may pick a draining edge (503) until its check fails: retry briefly.
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto c = client::ws_client::connect({"127.0.0.1", std::to_string(lb_port), "/ws"}, 5s, {test::bearer_for(user)});
      if (c) return std::move(c).value();
      std::this_thread::sleep_for(50ms);
    }
    FAIL("could not connect through the load balancer");
    return nullptr;
  };
  // Both edges in rotation (each has passed its health checks).
  std::set<std::string> seen;
  REQUIRE(wait_until([&] {
    auto c = client::ws_client::connect({"127.0.0.1", std::to_string(lb_port), "/ws"}, 2s, {test::bearer_for("probe")});
    if (c) {
      seen.insert((*c)->node());
      (*c)->close();
    }
    return seen.size() == 2;
  }));

  constexpr int users = 60;  // five connections each: 300 clients
  struct conn {
    std::string user;
    std::unique_ptr<client::ws_client> ws;
    std::int64_t last_seq = 0;
    bool drained = false;
  };
  std::vector<conn> conns;
  // Half on each edge (directly, so the split is exact); the reconnects go through the balancer.
  for (int u = 0; u < users; ++u) {
    for (int k = 0; k < 5; ++k) {
      const auto user = "d" + std::to_string(u);
      conns.push_back({user, test::connect_as(conns.size() % 2 == 0 ? a.port : b.port, user)});
    }
  }
  for (auto& c : conns) {
    REQUIRE(c.ws->send(R"({"type":"subscribe","channels":["orders"]})"));
    REQUIRE(c.ws->next(5s));  // subscribed
    REQUIRE(c.ws->next(5s));  // snapshot
  }
  std::size_t on_a = 0;
  std::map<std::string, int> nodes;
  for (const auto& c : conns) {
    on_a += c.ws->node() == "edge-a";
    ++nodes[c.ws->node()];
  }
  for (const auto& [n, k] : nodes) UNSCOPED_INFO("node '" << n << "': " << k);
  REQUIRE(on_a == conns.size() / 2);

  // Private events keep flowing for every user during the drain.
  common::redis_options o;
  o.port = redis.port();
  common::redis_client store_redis(o);
  store_redis.start();
  ingest::private_store store(store_redis, 10'000);
  std::atomic<bool> stop{false};
  std::atomic<int> issued{0};
  std::atomic<int> acknowledged{0};
  std::thread producer([&] {
    std::mt19937 rng(7);
    for (int n = 0; !stop; ++n) {
      common::order_update ev;
      ev.header = test::header_for("d" + std::to_string(rng() % users));
      ev.order_id = "o" + std::to_string(n);
      ev.broker_order_id = "b" + std::to_string(n);
      ev.symbol = "AAPL";
      ev.side = "buy";
      ev.order_type = "market";
      ev.status = "canceled";  // closed at once: the snapshot stays small
      ev.submitted_at_us = ev.header.time_us;
      ++issued;
      store.store(ev, [&](common::result<std::int64_t>) { ++acknowledged; });
      std::this_thread::sleep_for(2ms);
    }
  });
  struct joiner {
    std::atomic<bool>& stop;
    std::thread& t;
    ~joiner() {
      stop = true;
      if (t.joinable()) t.join();
    }
  } join_producer{stop, producer};

  // Reads what a client has received; false when it saw something out of order.
  const auto drain_frames = [&](conn& c, std::chrono::milliseconds wait) {
    while (auto f = c.ws->next(wait)) {
      auto d = test::parse(*f);
      const std::string type = d["type"].GetString();
      if (type == "reconnect") {
        c.drained = true;
        continue;
      }
      if (type != "order_update") continue;
      const auto seq = d["seq"].GetInt64();
      if (c.last_seq != 0 && seq != c.last_seq + 1) {
        FAIL_CHECK(c.user << ": seq " << c.last_seq << " then " << seq);
      }
      c.last_seq = seq;
    }
  };
  std::this_thread::sleep_for(300ms);
  for (auto& c : conns) drain_frames(c, 0ms);

  const auto sigterm_at = std::chrono::steady_clock::now();
  a.proc.signal(SIGTERM);
  std::string why;
  // Out of the balancer at once, for the drain (a loaded machine may have it unready for another
  // reason, such as a late probe, just before).
  CHECK(wait_until([&] { return readyz(a.port, &why) == 503 && why.find("draining") != std::string::npos; }, 2s));
  CHECK(why == R"({"status":"not_ready","reason":"draining"})");
  // Every client on A: the reconnect hint, then close 1001, within the drain window. (All are read
  // in turn, as their own clients would, so each answers its close frame promptly.)
  REQUIRE(wait_until(
      [&] {
        bool all = true;
        for (auto& c : conns) {
          if (c.ws->node() != "edge-a" || c.ws->closed()) continue;
          drain_frames(c, 1ms);
          all = all && c.ws->closed();
        }
        return all;
      },
      10s));
  for (auto& c : conns) {
    if (c.ws->node() != "edge-a") continue;
    CHECK(c.drained);
    CHECK(c.ws->close_code() == 1001);
  }
  const auto all_closed_after = std::chrono::steady_clock::now() - sigterm_at;
  REQUIRE(a.proc.wait(4s));  // the process exits once its clients are gone (at most drain + 2 s)
  const auto exit_after = std::chrono::steady_clock::now() - sigterm_at;
  CHECK(exit_after < 5s);
  // They resume through the balancer, which now sends them to B, from the last seq they applied.
  std::size_t resumed = 0;
  for (auto& c : conns) {
    if (c.ws->node() != "edge-a") continue;
    c.ws = connect_lb(c.user);
    CHECK(c.ws->node() == "edge-b");
    REQUIRE(c.ws->send(R"({"type":"subscribe","channels":["orders"],"since":)" + std::to_string(c.last_seq) + "}"));
    ++resumed;
  }
  CHECK(resumed == on_a);

  stop = true;
  producer.join();
  // Everything stored has reached every client, on whichever edge, with no seq missing.
  REQUIRE(wait_until([&] { return acknowledged.load() == issued.load(); }));
  std::vector<std::string> mget{"MGET"};
  for (int u = 0; u < users; ++u) mget.push_back("ts:{u:d" + std::to_string(u) + "}:seq");
  const auto values = redis.cli(mget);
  std::map<std::string, std::int64_t> final_seq;
  std::size_t pos = 0;
  for (int u = 0; u < users; ++u) {
    const auto eol = values.find('\n', pos);
    const auto v = values.substr(pos, eol - pos);
    pos = eol + 1;
    final_seq["d" + std::to_string(u)] = v.empty() ? 0 : std::stoll(v);
  }
  for (auto& c : conns) {
    INFO(c.user);
    REQUIRE(wait_until(
        [&] {
          drain_frames(c, 2ms);
          return c.last_seq == final_seq[c.user];
        },
        10s));
  }
  std::ofstream("drain-figures.txt") << "clients " << conns.size() << "\non_edge_a " << on_a << "\nresumed " << resumed
                                     << "\nall_closed_after_ms "
                                     << std::chrono::duration_cast<std::chrono::milliseconds>(all_closed_after).count()
                                     << "\nexit_after_ms "
                                     << std::chrono::duration_cast<std::chrono::milliseconds>(exit_after).count()
                                     << "\n";
}

TEST_CASE("with an ops port, metrics, health and admin leave the client port", "[ops]") {
  test::edge_fixture fx([](edge::app_config& c) {
    c.ops_listen = "127.0.0.1:0";
    c.proxy_protocol = true;  // the client port sits behind the load balancer; the ops port does not
  });
  const auto ops = std::to_string(fx.edge->ops_port());
  REQUIRE(fx.edge->ops_port() != 0);
  for (const auto* path : {"/metrics", "/healthz", "/readyz"}) {
    REQUIRE(test::wait_until([&] {
      auto r = client::http_get("127.0.0.1", ops, path, 2s);
      return r.ok() && r->status == 200;
    }));
  }
  auto ws = client::http_get("127.0.0.1", ops, "/ws", 2s);
  REQUIRE(ws.ok());
  CHECK(ws->status == 404);
  CHECK(client::http_get("127.0.0.1", ops, "/api/prices?symbols=AAPL", 2s)->status == 404);
  // The client port (through the PROXY header) serves clients only.
  boost::asio::io_context ioc;
  const auto via_balancer = [&](const std::string& target) {
    boost::asio::ip::tcp::socket s(ioc);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), fx.edge->port()});
    boost::asio::write(s, boost::asio::buffer("PROXY TCP4 203.0.113.7 10.0.0.2 40000 8080\r\nGET " + target +
                                              " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    std::string out;
    boost::system::error_code ec;
    char buf[4096];
    while (!ec) out.append(buf, s.read_some(boost::asio::buffer(buf), ec));
    return out.substr(0, 12);
  };
  CHECK(via_balancer("/metrics") == "HTTP/1.1 404");
  CHECK(via_balancer("/readyz") == "HTTP/1.1 404");
  CHECK(via_balancer("/api/admin/websocket-stats") == "HTTP/1.1 404");
  CHECK(via_balancer("/api/prices?symbols=AAPL") == "HTTP/1.1 200");
  // A bad --ops-listen is refused at start-up, naming the flag.
  edge::app_config bad;
  bad.ops_listen = "9100";
  CHECK(edge::app::make(bad).err().code == "ops-listen");
}

TEST_CASE("metrics carry the build, the process's own figures and how long connections last", "[ops]") {
  test::edge_fixture fx;
  { auto c = fx.connect(); }
  REQUIRE(test::wait_until([&] {
    return fx.get("/metrics").body.find("tickstream_edge_connection_duration_seconds_count 1") != std::string::npos;
  }));
  const auto m = fx.get("/metrics").body;
  CHECK(m.find("tickstream_build_info{version=\"0.1.0\",revision=\"") != std::string::npos);
  for (const std::string name :
       {"process_resident_memory_bytes", "process_open_fds", "process_max_fds", "process_start_time_seconds"}) {
    INFO(name);
    CHECK(test::metric_value(m, name) > 0);
  }
  CHECK(test::metric_value(m, "process_cpu_seconds_total") >= 0);
  CHECK(test::metric_value(m, "process_start_time_seconds") > 1.7e9);
  CHECK(m.find("tickstream_edge_connection_duration_seconds_bucket{le=\"1\"} 1") != std::string::npos);
}
