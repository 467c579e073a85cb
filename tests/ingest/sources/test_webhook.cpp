// The webhook source: signatures, and events reaching Redis before the 200, with a real
// redis-server and the real tickstream-ingest binary.
#include <catch2/catch.hpp>

#include <signal.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <string>

#include "common/clock.hpp"
#include "ingest/sources/webhook_signature.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_file.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
namespace http = boost::beast::http;

namespace {

constexpr std::string_view secret = "a-long-shared-secret";

struct reply {
  unsigned status = 0;
  std::string body;
};

// POSTs body to /v1/events with the given headers; status 0 if the server is not there.
reply post(int port, const std::string& body, const std::string& ts, const std::string& sig) {
  boost::asio::io_context ioc;
  boost::beast::tcp_stream stream(ioc);
  boost::system::error_code ec;
  stream.expires_after(10s);
  stream.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, ec);
  if (ec) return {};
  http::request<http::string_body> req{http::verb::post, "/v1/events", 11};
  req.set(http::field::host, "localhost");
  req.set(http::field::content_type, "application/json");
  if (!ts.empty()) req.set("X-Tickstream-Timestamp", ts);
  if (!sig.empty()) req.set("X-Tickstream-Signature", sig);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req, ec);
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res, ec);
  if (ec) return {};
  return {res.result_int(), res.body()};
}

const std::string account =
    R"({"type":"account_update","userId":"u-9","timestamp":"2026-11-20T14:30:00Z","recv_us":1795185000000000,)"
    R"("source":"backoffice","data":{"equity":"100250.10","buyingPower":"190000.00","cash":"97000.00",)"
    R"("portfolioValue":"100250.10","dayPnl":"-120.55","dayPnlPercent":"-0.12"}})";

}  // namespace

TEST_CASE("webhook signatures bind the body and the time", "[webhook]") {
  const auto now = 1'795'185'000;
  const auto sig = ingest::sign_webhook(secret, now, "{}");
  CHECK(sig.rfind("sha256=", 0) == 0);
  CHECK(ingest::verify_webhook(secret, std::to_string(now), sig, "{}", now).ok());
  CHECK(ingest::verify_webhook(secret, std::to_string(now), sig, "{} ", now).err().code == "bad_signature");
  CHECK(ingest::verify_webhook("other-secret-value", std::to_string(now), sig, "{}", now).err().code ==
        "bad_signature");
  CHECK(ingest::verify_webhook(secret, std::to_string(now), "", "{}", now).err().code == "missing_signature");
  CHECK(ingest::verify_webhook(secret, "", sig, "{}", now).err().code == "bad_timestamp");
  CHECK(ingest::verify_webhook(secret, std::to_string(now), sig, "{}", now + 301).err().code == "bad_timestamp");
  CHECK(ingest::verify_webhook(secret, std::to_string(now + 1), sig, "{}", now).err().code == "bad_signature");
}

TEST_CASE("the webhook stores signed events before answering and refuses bad requests", "[webhook]") {
  test::redis_server redis;
  const int port = test::free_port();
  const test::temp_file log("tickstream-webhook-log");
  test::child_process ingest({TICKSTREAM_INGEST_BIN, "--webhook-listen", "127.0.0.1:" + std::to_string(port),
                              "--webhook-secret", std::string(secret), "--redis-port", std::to_string(redis.port())},
                             log.path());
  const auto ts = std::to_string(common::now_us() / 1'000'000);
  REQUIRE(test::wait_until([&] {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::socket probe(ioc);
    boost::system::error_code ec;
    probe.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, ec);
    return !ec;
  }));

  std::string later = account;
  later.replace(later.find("14:30:00Z"), 9, "14:31:00Z");
  const std::string batch = "[" + account + "," + later + "]";
  // 503 while ingest is still connecting to Redis (nothing of it is queued): retried as asked.
  reply ok;
  REQUIRE(test::wait_until([&] {
    ok = post(port, batch, ts, ingest::sign_webhook(secret, std::stoll(ts), batch));
    return ok.status != 503;
  }));
  CHECK(ok.status == 200);
  CHECK(ok.body == R"({"accepted":2,"duplicates":0})");
  // In Redis by the time of the 200: no waiting needed.
  CHECK(redis.cli({"GET", "ts:{u:u-9}:seq"}) == "2\n");
  CHECK(redis.cli({"GET", "ts:{u:u-9}:acct"}).find(R"("equity":"100250.10")") != std::string::npos);
  // The same reports posted again (a retry) change nothing.
  const auto again = post(port, batch, ts, ingest::sign_webhook(secret, std::stoll(ts), batch));
  CHECK(again.status == 200);
  CHECK(again.body == R"({"accepted":0,"duplicates":2})");
  CHECK(redis.cli({"GET", "ts:{u:u-9}:seq"}) == "2\n");
  // A misspelt figure is refused, not silently dropped.
  std::string misspelt = account;
  misspelt.replace(misspelt.find("}}"), 2, R"(,"lastEquty":"100370.65"}})");
  const auto typo = post(port, misspelt, ts, ingest::sign_webhook(secret, std::stoll(ts), misspelt));
  CHECK(typo.status == 400);
  CHECK(typo.body.find("field 'data.lastEquty': is not a known field") != std::string::npos);

  const auto forged = post(port, batch, ts, ingest::sign_webhook("not-the-secret-at-all", std::stoll(ts), batch));
  CHECK(forged.status == 401);
  CHECK(forged.body.find("bad_signature") != std::string::npos);
  const auto unsigned_req = post(port, batch, ts, "");
  CHECK(unsigned_req.status == 401);
  const std::string broken = R"([{"type":"account_update","userId":"u-9"}])";
  const auto invalid = post(port, broken, ts, ingest::sign_webhook(secret, std::stoll(ts), broken));
  CHECK(invalid.status == 400);
  CHECK(invalid.body.find("event 0: field 'timestamp': is required") != std::string::npos);
  CHECK(redis.cli({"GET", "ts:{u:u-9}:seq"}) == "2\n");  // nothing of the refused requests was stored
  CHECK(redis.cli({"XLEN", "ts:dead"}) == "4\n");

  ingest.signal(SIGTERM);
  const auto status = ingest.wait(10s);
  REQUIRE(status);
  CHECK(*status == 0);
  CHECK(log.text().find(std::string(secret)) == std::string::npos);  // the secret is never logged
}
