// The Redis client over TLS against a real redis-server with TLS, with certificates made by the
// test itself (openssl): a CA, a server certificate for localhost and 127.0.0.1, a client
// certificate (the server requires one), and a second CA nobody signed with.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/redis/redis_client.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using test::wait_until;

namespace {

void run(const std::string& command) {
  if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("failed: " + command);
}

// The certificates of one test, in a temporary directory removed afterwards.
struct test_pki {
  std::filesystem::path dir;

  test_pki() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tickstream-tls-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir = tmpl;
    const std::string d = dir.string() + "/";
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    run("openssl req -x509" + ec + " -keyout " + d + "ca.key -out " + d +
        "ca.crt -days 2 -subj /CN=tickstream-test-ca");
    run("openssl req -x509" + ec + " -keyout " + d + "other.key -out " + d + "other.crt -days 2 -subj /CN=other-ca");
    std::ofstream(d + "server.ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
    run("openssl req" + ec + " -keyout " + d + "server.key -out " + d + "server.csr -subj /CN=localhost");
    run("openssl x509 -req -in " + d + "server.csr -CA " + d + "ca.crt -CAkey " + d + "ca.key -CAcreateserial -out " +
        d + "server.crt -days 2 -extfile " + d + "server.ext");
    run("openssl req" + ec + " -keyout " + d + "client.key -out " + d + "client.csr -subj /CN=tickstream-edge");
    run("openssl x509 -req -in " + d + "client.csr -CA " + d + "ca.crt -CAkey " + d + "ca.key -CAcreateserial -out " +
        d + "client.crt -days 2");
  }
  ~test_pki() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  std::string file(const char* name) const { return (dir / name).string(); }
};

// redis-server listening with TLS only (no plain port), requiring client certificates.
struct tls_redis {
  const test_pki& pki;
  int port = test::free_port();
  std::unique_ptr<test::child_process> proc;

  explicit tls_redis(const test_pki& p) : pki(p) {
    proc = std::make_unique<test::child_process>(std::vector<std::string>{"redis-server",
                                                                          "--port",
                                                                          "0",
                                                                          "--tls-port",
                                                                          std::to_string(port),
                                                                          "--bind",
                                                                          "127.0.0.1",
                                                                          "--save",
                                                                          "",
                                                                          "--appendonly",
                                                                          "no",
                                                                          "--daemonize",
                                                                          "no",
                                                                          "--loglevel",
                                                                          "warning",
                                                                          "--tls-cert-file",
                                                                          pki.file("server.crt"),
                                                                          "--tls-key-file",
                                                                          pki.file("server.key"),
                                                                          "--tls-ca-cert-file",
                                                                          pki.file("ca.crt"),
                                                                          "--tls-auth-clients",
                                                                          "yes"});
    const std::string ping = "redis-cli --tls --cacert " + pki.file("ca.crt") + " --cert " + pki.file("client.crt") +
                             " --key " + pki.file("client.key") + " -p " + std::to_string(port) + " PING 2>/dev/null";
    if (!wait_until([&] { return std::system((ping + " | grep -q PONG").c_str()) == 0; }, std::chrono::seconds(5))) {
      throw std::runtime_error("redis-server with TLS did not start");
    }
  }
};

common::redis_options tls_options(const tls_redis& server, const std::string& host = "127.0.0.1") {
  common::redis_options o;
  o.host = host;
  o.port = server.port;
  o.tls = true;
  o.tls_ca_file = server.pki.file("ca.crt");
  o.tls_cert_file = server.pki.file("client.crt");
  o.tls_key_file = server.pki.file("client.key");
  o.reconnect_min = std::chrono::milliseconds(20);
  o.reconnect_max = std::chrono::milliseconds(100);
  o.control_channel = "ts:test:ctl";
  return o;
}

// Runs one command and waits for its outcome: the reply's text, or "error:<code>".
std::string run_command(common::redis_client& c, const std::vector<std::string>& args) {
  std::atomic<bool> done{false};
  std::string out;
  c.command(args, [&](common::result<common::redis_reply> r) {
    out = r.ok() ? r->str : "error:" + r.err().code;
    done = true;
  });
  REQUIRE(wait_until([&] { return done.load(); }, std::chrono::seconds(10)));
  return out;
}

}  // namespace

TEST_CASE("over TLS, commands and pub/sub work when the certificate checks out", "[redis][tls]") {
  test_pki pki;
  tls_redis server(pki);
  SECTION("an address in the certificate, with a client certificate") {
    std::atomic<int> received{0};
    std::atomic<int> active{0};
    auto opts = tls_options(server);
    opts.subscriber = true;
    common::redis_client pub(tls_options(server));
    common::redis_client subscriber(opts, [&](std::string_view ch, std::string_view payload) {
      if (ch == "ts:{md:AAPL}" && payload == "tick") ++received;
    });
    subscriber.set_activation_handler([&](const common::channel_activation&) { ++active; });
    subscriber.start();
    pub.start();
    CHECK(run_command(pub, {"SET", "k", "over tls"}) == "OK");
    CHECK(run_command(pub, {"GET", "k"}) == "over tls");
    subscriber.subscribe("ts:{md:AAPL}", 1);
    REQUIRE(wait_until([&] { return active.load() == 1; }));
    REQUIRE(run_command(pub, {"PUBLISH", "ts:{md:AAPL}", "tick"}) == "");  // (an integer reply: no text)
    REQUIRE(wait_until([&] { return received.load() == 1; }));
  }
  SECTION("a host name in the certificate, sent as SNI") {
    common::redis_client c(tls_options(server, "localhost"));
    c.start();
    CHECK(run_command(c, {"PING"}) == "PONG");
  }
}

TEST_CASE("over TLS, a wrong CA, host name or missing client certificate is refused with a clear error",
          "[redis][tls]") {
  test_pki pki;
  tls_redis server(pki);
  auto opts = tls_options(server);
  std::string expected;
  SECTION("a CA that did not sign the server's certificate") {
    opts.tls_ca_file = pki.file("other.crt");
    expected = "certificate verify failed";
  }
  SECTION("a name the certificate does not carry") {
    opts.tls_server_name = "redis.example.com";
    expected = "certificate verify failed";
  }
  SECTION("no client certificate where the server requires one") {
    opts.tls_cert_file.clear();
    opts.tls_key_file.clear();
    expected = "";  // the server ends the connection: whatever the reason, never connected for good
  }
  opts.max_attempts = 1;
  opts.command_timeout = std::chrono::milliseconds(300);  // (never connected: the PING below times out)
  common::redis_client c(opts);
  c.start();
  REQUIRE(wait_until([&] { return !c.last_error().empty(); }));
  CHECK(c.last_error().find(expected) != std::string::npos);
  CHECK(run_command(c, {"PING"}).starts_with("error:"));
  if (opts.tls_server_name == "redis.example.com") CHECK(c.last_error().find("mismatch") != std::string::npos);
}

TEST_CASE("over TLS, the master is found through a sentinel that speaks TLS too", "[redis][tls][sentinel]") {
  test_pki pki;
  tls_redis server(pki);
  // A sentinel on a TLS port only, talking TLS to the master as well.
  const int port = test::free_port();
  const auto conf = (pki.dir / "sentinel.conf").string();
  std::ofstream(conf) << "port 0\ntls-port " << port << "\nbind 127.0.0.1\ntls-cert-file " << pki.file("server.crt")
                      << "\ntls-key-file " << pki.file("server.key") << "\ntls-ca-cert-file " << pki.file("ca.crt")
                      << "\ntls-replication yes\nsentinel monitor tls 127.0.0.1 " << server.port << " 1\n";
  test::child_process sentinel({"redis-server", conf, "--sentinel"});
  auto opts = tls_options(server);
  opts.sentinels = {{"127.0.0.1", port}};
  opts.sentinel_master = "tls";
  opts.port = 1;  // not used: the sentinel says where the master is
  opts.subscriber = true;
  common::redis_client c(opts);
  c.start();
  REQUIRE(wait_until([&] { return c.command_connected() && c.subscriber_connected(); }));
  CHECK(run_command(c, {"SET", "k", "through a tls sentinel"}) == "OK");
  c.stop();
  // The same sentinel with a CA that did not sign its certificate: never connected, and why.
  opts.tls_ca_file = pki.file("other.crt");
  opts.command_timeout = std::chrono::milliseconds(300);
  common::redis_client refused(opts);
  refused.start();
  REQUIRE(wait_until([&] { return !refused.last_error().empty(); }));
  CHECK(refused.last_error().find("certificate verify failed") != std::string::npos);
  CHECK_FALSE(refused.command_connected());
}

namespace {

// A 3-master Redis Cluster speaking TLS only, between its nodes too (tls-cluster yes), with the
// test's certificates; formed with redis-cli --cluster create over TLS.
struct tls_cluster {
  const test_pki& pki;
  std::vector<int> ports;
  std::vector<std::unique_ptr<test::child_process>> nodes;

  std::string cli() const {
    return "redis-cli --tls --cacert " + pki.file("ca.crt") + " --cert " + pki.file("client.crt") + " --key " +
           pki.file("client.key");
  }

  explicit tls_cluster(const test_pki& p) : pki(p) {
    std::string create = cli() + " --cluster create";
    for (int i = 0; i < 3; ++i) {
      const int port = test::free_port();
      ports.push_back(port);
      create += " 127.0.0.1:" + std::to_string(port);
      nodes.push_back(std::make_unique<test::child_process>(
          std::vector<std::string>{"redis-server",
                                   "--port",
                                   "0",
                                   "--tls-port",
                                   std::to_string(port),
                                   "--bind",
                                   "127.0.0.1",
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--daemonize",
                                   "no",
                                   "--loglevel",
                                   "warning",
                                   "--tls-cert-file",
                                   pki.file("server.crt"),
                                   "--tls-key-file",
                                   pki.file("server.key"),
                                   "--tls-ca-cert-file",
                                   pki.file("ca.crt"),
                                   "--tls-auth-clients",
                                   "yes",
                                   "--tls-cluster",
                                   "yes",
                                   "--cluster-port",
                                   std::to_string(test::free_port()),
                                   "--cluster-enabled",
                                   "yes",
                                   "--cluster-config-file",
                                   pki.file("nodes-") + std::to_string(port) + ".conf",
                                   "--cluster-require-full-coverage",
                                   "no"}));
    }
    for (const int port : ports) {
      const std::string ping = cli() + " -p " + std::to_string(port) + " PING 2>/dev/null | grep -q PONG";
      if (!wait_until([&] { return std::system(ping.c_str()) == 0; }, std::chrono::seconds(5))) {
        throw std::runtime_error("redis-server with TLS in cluster mode did not start");
      }
    }
    run(create + " --cluster-yes");
    for (const int port : ports) {
      const std::string ok = cli() + " -p " + std::to_string(port) + " CLUSTER INFO | grep -q cluster_state:ok";
      if (!wait_until([&] { return std::system(ok.c_str()) == 0; }, std::chrono::seconds(10))) {
        throw std::runtime_error("the TLS cluster did not come up");
      }
    }
  }
};

common::redis_options tls_cluster_options(const tls_cluster& cluster) {
  common::redis_options o;
  for (const int port : cluster.ports) o.cluster_nodes.push_back({"127.0.0.1", port});
  o.tls = true;
  o.tls_ca_file = cluster.pki.file("ca.crt");
  o.tls_cert_file = cluster.pki.file("client.crt");
  o.tls_key_file = cluster.pki.file("client.key");
  o.reconnect_min = std::chrono::milliseconds(20);
  o.reconnect_max = std::chrono::milliseconds(100);
  o.control_channel = "ts:edge:test";
  o.name = "tls-cluster-test";
  return o;
}

}  // namespace

TEST_CASE("over TLS, a Redis Cluster takes commands on every master and refuses a CA that did not sign it",
          "[redis][tls][cluster]") {
  test_pki pki;
  tls_cluster cluster(pki);
  SECTION("the right CA") {
    common::redis_client c(tls_cluster_options(cluster));
    c.start();
    // 30 users' keys, set and read back each through the master of its slot.
    for (int u = 1; u <= 30; ++u) {
      const std::string key = "ts:{u:" + std::to_string(u) + "}:k";
      CHECK(run_command(c, {"SET", key, "v" + std::to_string(u)}) == "OK");
      CHECK(run_command(c, {"GET", key}) == "v" + std::to_string(u));
    }
    // Every master took some of them (each node holds only its own slots' keys).
    for (const int port : cluster.ports) {
      const std::string has_keys = cluster.cli() + " -p " + std::to_string(port) + " DBSIZE | grep -qv '^0$'";
      CHECK(std::system(has_keys.c_str()) == 0);
    }
  }
  SECTION("a CA that did not sign the nodes' certificates") {
    auto opts = tls_cluster_options(cluster);
    opts.tls_ca_file = pki.file("other.crt");
    opts.command_timeout = std::chrono::milliseconds(300);
    common::redis_client c(opts);
    c.start();
    REQUIRE(wait_until([&] { return !c.last_error().empty(); }));
    CHECK(c.last_error().find("certificate verify failed") != std::string::npos);
    CHECK(run_command(c, {"GET", "ts:{u:1}:k"}).starts_with("error:"));
  }
}
