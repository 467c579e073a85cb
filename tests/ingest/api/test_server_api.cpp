// The server API end to end: the real tickstream-ingest (serving beside a replay) and a real
// redis-server; app events sequenced with broker events, idempotency keys, refusals.
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

constexpr std::string_view api_key = "test-api-key-0123456789";
constexpr std::string_view secret = "a-long-shared-secret";

struct reply {
  unsigned status = 0;
  std::string body;
};

reply post(int port, const std::string& target, const std::string& body,
           const std::vector<std::pair<std::string, std::string>>& headers) {
  boost::asio::io_context ioc;
  boost::beast::tcp_stream stream(ioc);
  boost::system::error_code ec;
  stream.expires_after(10s);
  stream.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, ec);
  if (ec) return {};
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, "localhost");
  req.set(http::field::content_type, "application/json");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req, ec);
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(stream, buf, res, ec);
  if (ec) return {};
  return {res.result_int(), res.body()};
}

reply publish(int port, const std::string& body) {
  return post(port, "/v1/publish", body, {{"Authorization", "Bearer " + std::string(api_key)}});
}

}  // namespace

TEST_CASE("the server API stores app events in the user's sequence, once per idempotency key", "[api]") {
  test::redis_server redis;
  const int port = test::free_port();
  const test::temp_file capture("tickstream-api-capture");  // empty: the replay ends at once
  test::child_process ingest({TICKSTREAM_INGEST_BIN, "--input", capture.path(), "--webhook-listen",
                              "127.0.0.1:" + std::to_string(port), "--webhook-secret", std::string(secret), "--api-key",
                              std::string(api_key), "--redis-port", std::to_string(redis.port())});
  REQUIRE(test::wait_until([&] { return post(port, "/", "", {}).status == 404; }));

  const std::string decision =
      R"({"user":"u-7","type":"decision_made","data":{"symbol":"AAPL","action":"buy"},"idempotency_key":"d-1"})";
  auto first = publish(port, decision);
  CHECK(first.status == 200);
  CHECK(first.body == R"({"accepted":1,"duplicates":0,"seqs":[1]})");
  // Stored by the time of the 200, in the user's history with its seq.
  CHECK(redis.cli({"GET", "ts:{u:u-7}:seq"}) == "1\n");
  const auto hist = redis.cli({"XRANGE", "ts:{u:u-7}:hist", "-", "+"});
  CHECK(hist.find(R"({"type":"decision_made","userId":"u-7","seq":1,"timestamp":")") != std::string::npos);
  CHECK(hist.find(R"("data":{"symbol":"AAPL","action":"buy"},"recv_us":)") != std::string::npos);

  // The same key again: stored once.
  auto again = publish(port, decision);
  CHECK(again.status == 200);
  CHECK(again.body == R"({"accepted":0,"duplicates":1,"seqs":[0]})");
  CHECK(redis.cli({"GET", "ts:{u:u-7}:seq"}) == "1\n");

  // A broker event through the signed webhook takes the next seq of the same stream.
  const std::string account =
      R"({"type":"account_update","userId":"u-7","timestamp":"2026-11-20T14:30:00Z","recv_us":1795185000000000,)"
      R"("source":"backoffice","data":{"equity":"100.00","buyingPower":"100.00","cash":"100.00",)"
      R"("portfolioValue":"100.00","dayPnl":"0","dayPnlPercent":"0"}})";
  const auto ts = std::to_string(common::now_us() / 1'000'000);
  CHECK(post(port, "/v1/events", account,
             {{"X-Tickstream-Timestamp", ts},
              {"X-Tickstream-Signature", ingest::sign_webhook(secret, std::stoll(ts), account)}})
            .status == 200);
  CHECK(redis.cli({"GET", "ts:{u:u-7}:seq"}) == "2\n");

  // The batch form, signed instead of keyed.
  const std::string batch = R"({"events":[{"user":"u-7","type":"portfolio_update","data":{"id":"p1"}},)"
                            R"({"user":"u-8","type":"alert","data":{"text":"hi"}}]})";
  auto signed_batch = post(port, "/v1/publish", batch,
                           {{"X-Tickstream-Timestamp", ts},
                            {"X-Tickstream-Signature", ingest::sign_webhook(secret, std::stoll(ts), batch)}});
  CHECK(signed_batch.status == 200);
  CHECK(signed_batch.body == R"({"accepted":2,"duplicates":0,"seqs":[3,1]})");

  // Refused whole, with a clear error, and nothing stored.
  const auto dead_before = std::stoi(redis.cli({"XLEN", "ts:dead"}));
  const std::string one_bad =
      R"({"events":[{"user":"u-7","type":"alert","data":{}},{"user":"u-7","type":"x y","data":{}}]})";
  auto refused = publish(port, one_bad);
  CHECK(refused.status == 400);
  CHECK(refused.body.find(R"("error":"invalid_type")") != std::string::npos);
  CHECK(refused.body.find("event 1: field 'type'") != std::string::npos);
  CHECK(publish(port, R"({"user":"u-7","type":"alert","data":{},"colour":"red"})").status == 400);
  CHECK(publish(port, R"({"user":"u-7","type":"alert","data":)").status == 400);
  CHECK(publish(port, R"({"user":"u-7","type":"alert","data":{"t":")" + std::string(70'000, 'x') + R"("}})").status ==
        413);
  CHECK(post(port, "/v1/publish", decision, {{"Authorization", "Bearer not-the-key-at-all-0000"}}).status == 401);
  CHECK(post(port, "/v1/publish", decision, {}).status == 401);
  const auto stale = std::to_string(common::now_us() / 1'000'000 - 600);
  auto old = post(port, "/v1/publish", decision,
                  {{"X-Tickstream-Timestamp", stale},
                   {"X-Tickstream-Signature", ingest::sign_webhook(secret, std::stoll(stale), decision)}});
  CHECK(old.status == 401);
  CHECK(old.body.find("bad_timestamp") != std::string::npos);
  CHECK(redis.cli({"GET", "ts:{u:u-7}:seq"}) == "3\n");
  // Each refusal is kept in the dead letters, source "api".
  CHECK(std::stoi(redis.cli({"XLEN", "ts:dead"})) == dead_before + 7);
  CHECK(redis.cli({"XREVRANGE", "ts:dead", "+", "-", "COUNT", "1"}).find("api") != std::string::npos);

  ingest.signal(SIGTERM);
  const auto status = ingest.wait(10s);
  REQUIRE(status);
  CHECK(*status == 0);
}

TEST_CASE("a batch over several users keeps each user's order and stores a repeated key once", "[api]") {
  test::redis_server redis;
  const int port = test::free_port();
  test::child_process ingest({TICKSTREAM_INGEST_BIN, "--webhook-listen", "127.0.0.1:" + std::to_string(port),
                              "--api-key", std::string(api_key), "--redis-port", std::to_string(redis.port())});
  REQUIRE(test::wait_until([&] { return post(port, "/", "", {}).status == 404; }));

  // u-1's third event repeats its first one's key; u-2's second one carries a key of its own.
  const std::string batch = R"({"events":[)"
                            R"({"user":"u-1","type":"alert","data":{"n":"a"},"idempotency_key":"k-1"},)"
                            R"({"user":"u-2","type":"alert","data":{"n":"b"}},)"
                            R"({"user":"u-1","type":"alert","data":{"n":"c"}},)"
                            R"({"user":"u-1","type":"alert","data":{"n":"d"},"idempotency_key":"k-1"},)"
                            R"({"user":"u-2","type":"alert","data":{"n":"e"},"idempotency_key":"k-2"}]})";
  const auto first = publish(port, batch);
  CHECK(first.status == 200);
  CHECK(first.body == R"({"accepted":4,"duplicates":1,"seqs":[1,1,2,0,2]})");
  // Each user's history holds its events in the request's order, under their seqs.
  const auto u1 = redis.cli({"XRANGE", "ts:{u:u-1}:hist", "-", "+"});
  const auto a = u1.find(R"("seq":1,)");
  const auto c = u1.find(R"("seq":2,)");
  REQUIRE(a != std::string::npos);
  REQUIRE(c != std::string::npos);
  CHECK(u1.find(R"("data":{"n":"a"})", a) < c);
  CHECK(u1.find(R"("data":{"n":"c"})", c) != std::string::npos);
  CHECK(u1.find(R"("n":"d")") == std::string::npos);
  CHECK(redis.cli({"XLEN", "ts:{u:u-2}:hist"}) == "2\n");

  // Keys already stored are duplicates in a later batch; the rest continues each sequence.
  const auto second = publish(port, R"({"events":[{"user":"u-2","type":"alert","data":{},"idempotency_key":"k-2"},)"
                                    R"({"user":"u-1","type":"alert","data":{"n":"f"}}]})");
  CHECK(second.status == 200);
  CHECK(second.body == R"({"accepted":1,"duplicates":1,"seqs":[0,3]})");
  CHECK(redis.cli({"GET", "ts:{u:u-1}:seq"}) == "3\n");
  CHECK(redis.cli({"GET", "ts:{u:u-2}:seq"}) == "2\n");
}
