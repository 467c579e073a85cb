// tickstream-watch against a real edge, directly and over TLS (wss://) through haproxy terminating
// TLS with a certificate made for the test: a token is sent, the right CA and host name are
// required, and a wrong one is refused with a clear error.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "tests/edge/support/edge_fixture.hpp"
#include "tests/edge/support/user_clients.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/temp_file.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Runs tickstream-watch with args; returns its exit status, stdout in out and stderr in err.
int watch(const std::vector<std::string>& args, std::string& out, std::string& err) {
  test::temp_file o("watch-out"), e("watch-err");
  std::string cmd = TICKSTREAM_WATCH_BIN;
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " >" + o.path() + " 2>" + e.path();
  const int status = std::system(cmd.c_str());
  out = o.text();
  err = e.text();
  return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("tickstream-watch: a token, private channels, and wss:// with the server's name checked", "[tools]") {
  test::edge_fixture fx([](edge::app_config& c) {
    c.jwt_algorithms = "HS256";
    c.jwt_hs_secret = test::user_secret;
  });
  const auto token = test::bearer_for("u-5").second.substr(7);
  std::string out, err;
  const auto ws_url = "ws://127.0.0.1:" + std::to_string(fx.edge->port()) + "/ws";
  CHECK(watch({"--url", ws_url, "--token", token, "--channels", "positions", "--count", "2"}, out, err) == 0);
  CHECK(out.find(R"("type":"subscribed")") != std::string::npos);
  CHECK(out.find(R"("channels":["positions"])") != std::string::npos);
  CHECK(watch({"--url", ws_url, "--count", "1"}, out, err) == 1);  // no token: refused, and why
  CHECK(err.find("HTTP 401") != std::string::npos);

  // A CA and a server certificate for "localhost", made for this test.
  test::temp_file ca_key("ca-key"), ca("ca-pem"), key("srv-key"), csr("srv-csr"), crt("srv-crt"), pem("srv-pem"),
      ext("srv-ext"), other_ca_key("other-key"), other_ca("other-pem");
  { std::ofstream(ext.path()) << "subjectAltName=DNS:localhost\n"; }
  const auto sh = [](const std::string& cmd) { REQUIRE(std::system((cmd + " >/dev/null 2>&1").c_str()) == 0); };
  sh("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test-ca -keyout " + ca_key.path() + " -out " +
     ca.path());
  sh("openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout " + key.path() + " -out " + csr.path());
  sh("openssl x509 -req -in " + csr.path() + " -CA " + ca.path() + " -CAkey " + ca_key.path() +
     " -CAcreateserial -days 1 -extfile " + ext.path() + " -out " + crt.path());
  { std::ofstream(pem.path()) << slurp(crt.path()) << slurp(key.path()); }
  sh("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other-ca -keyout " + other_ca_key.path() + " -out " +
     other_ca.path());
  // haproxy terminating TLS in front of the edge.
  const int tls_port = test::free_port();
  test::temp_file cfg("haproxy-cfg");
  {
    std::ofstream(cfg.path()) << "defaults\n  mode http\n  timeout connect 5s\n  timeout client 30s\n"
                                 "  timeout server 30s\n  timeout tunnel 1h\n"
                              << "frontend tls\n  bind 127.0.0.1:" << tls_port << " ssl crt " << pem.path()
                              << "\n  default_backend edge\nbackend edge\n  server e 127.0.0.1:" << fx.edge->port()
                              << "\n";
  }
  test::child_process haproxy({"haproxy", "-db", "-f", cfg.path()}, "watch-haproxy.log");
  const auto wss = "wss://localhost:" + std::to_string(tls_port) + "/ws";
  REQUIRE(test::wait_until(
      [&] {  // until haproxy listens
        return watch({"--url", wss, "--ca-file", ca.path(), "--token", token, "--count", "1"}, out, err) == 0;
      },
      10s));
  CHECK(out.find(R"("type":"subscribed")") != std::string::npos);
  // A CA that did not sign it, or a name the certificate does not carry: refused, saying so.
  CHECK(watch({"--url", wss, "--ca-file", other_ca.path(), "--token", token, "--count", "1"}, out, err) == 1);
  CHECK(err.find("tls_failed") != std::string::npos);
  CHECK(watch({"--url", "wss://127.0.0.1:" + std::to_string(tls_port) + "/ws", "--ca-file", ca.path(), "--token", token,
               "--count", "1"},
              out, err) == 1);
  CHECK(err.find("tls_failed") != std::string::npos);
}
