// One connection's protocol on its own: bytes in, events out, no sockets, time passed in.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/redis/redis_pipeline.hpp"

using namespace tickstream::common;
using namespace std::chrono_literals;
using kind = redis_event::kind;

namespace {

// Every event the bytes read so far complete.
std::vector<redis_event> events(redis_pipeline& p) {
  std::vector<redis_event> out;
  for (;;) {
    auto e = p.next();
    REQUIRE(e.ok());
    if (!e.value()) return out;
    out.push_back(std::move(*e.value()));
  }
}

std::string confirmation(std::string_view what, std::string_view channel, int count) {
  return "*3\r\n$" + std::to_string(what.size()) + "\r\n" + std::string(what) + "\r\n$" +
         std::to_string(channel.size()) + "\r\n" + std::string(channel) + "\r\n:" + std::to_string(count) + "\r\n";
}

std::string push(std::string_view what, std::string_view channel, std::string_view payload) {
  return "*3\r\n$" + std::to_string(what.size()) + "\r\n" + std::string(what) + "\r\n$" +
         std::to_string(channel.size()) + "\r\n" + std::string(channel) + "\r\n$" + std::to_string(payload.size()) +
         "\r\n" + std::string(payload) + "\r\n";
}

void subscribe(redis_pipeline& p, redis_slot slot, const std::string& channel) {
  const char* verb = slot == redis_slot::subscribe ? "SUBSCRIBE" : "SSUBSCRIBE";
  p.send(encode_redis_command({verb, channel}), slot, 0, channel);
}

}  // namespace

TEST_CASE("replies reach their commands in order and every command is written once", "[redis_pipeline]") {
  redis_pipeline p(false);
  p.send(encode_redis_command({"INCR", "a"}), redis_slot::command, 1);
  p.send(encode_redis_command({"GET", "b"}), redis_slot::command, 2);
  p.send(encode_redis_command({"LRANGE", "c", "0", "-1"}), redis_slot::command, 3);
  CHECK(p.output() ==
        "*2\r\n$4\r\nINCR\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n*4\r\n$6\r\nLRANGE\r\n$1\r\nc\r\n$1\r\n0\r\n$"
        "2\r\n-1\r\n");
  CHECK(p.outstanding() == 3);
  // On a command connection an array that looks like a pub/sub frame is just a reply.
  p.feed(":1\r\n$-1\r\n" + push("message", "x", "y"));
  const auto e = events(p);
  REQUIRE(e.size() == 3);
  CHECK(e[0].type == kind::reply);
  CHECK(e[0].token == 1);
  CHECK(e[0].value.integer() == 1);
  CHECK(e[1].token == 2);
  CHECK(e[1].value.type() == redis_reply::kind::nil);
  CHECK(e[2].token == 3);
  CHECK(e[2].value.size() == 3);
  CHECK(p.outstanding() == 0);
}

TEST_CASE("an error reply fails only the command it answers", "[redis_pipeline]") {
  redis_pipeline p(false);
  p.send(encode_redis_command({"SET", "k", "v"}), redis_slot::command, 1);
  p.send(encode_redis_command({"INCR", "k"}), redis_slot::command, 2);
  p.send(encode_redis_command({"GET", "k"}), redis_slot::command, 3);
  p.feed("+OK\r\n-ERR value is not an integer or out of range\r\n$1\r\nv\r\n");
  const auto e = events(p);
  REQUIRE(e.size() == 3);
  CHECK(e[0].value.str() == "OK");
  CHECK(e[1].value.type() == redis_reply::kind::error);
  CHECK(e[1].token == 2);
  CHECK(e[2].value.str() == "v");
}

TEST_CASE("a refused SUBSCRIBE fails that channel only and the connection carries on", "[redis_pipeline]") {
  redis_pipeline p(true);
  subscribe(p, redis_slot::subscribe, "ts:ctl");
  subscribe(p, redis_slot::subscribe, "ts:{md:DENIED}");
  subscribe(p, redis_slot::subscribe, "ts:{md:AAPL}");
  p.feed(confirmation("subscribe", "ts:ctl", 1) +
         "-NOPERM this user has no permissions to access one of the channels used as arguments\r\n" +
         push("message", "ts:ctl", "probe") + confirmation("subscribe", "ts:{md:AAPL}", 2) +
         push("message", "ts:{md:AAPL}", "tick"));
  const auto e = events(p);
  REQUIRE(e.size() == 5);
  CHECK(e[0].type == kind::subscribed);
  CHECK(e[0].name == "ts:ctl");
  CHECK(e[1].type == kind::refused);
  CHECK(e[1].name == "ts:{md:DENIED}");
  CHECK(e[1].text.starts_with("NOPERM"));
  CHECK(e[2].type == kind::message);
  CHECK(e[2].channel == "ts:ctl");
  CHECK(e[3].type == kind::subscribed);
  CHECK(e[3].name == "ts:{md:AAPL}");
  CHECK(e[4].type == kind::message);
  CHECK(e[4].payload == "tick");
  CHECK(p.outstanding() == 0);
}

TEST_CASE("sharded subscriptions: smessage, our sunsubscribe, and one Redis ends by itself", "[redis_pipeline]") {
  redis_pipeline p(true);
  subscribe(p, redis_slot::ssubscribe, "ts:{md:AAPL}");
  subscribe(p, redis_slot::ssubscribe, "ts:{u:7}");
  p.feed(confirmation("ssubscribe", "ts:{md:AAPL}", 1) + confirmation("ssubscribe", "ts:{u:7}", 2) +
         push("smessage", "ts:{u:7}", "event"));
  auto e = events(p);
  REQUIRE(e.size() == 3);
  CHECK(e[0].type == kind::subscribed);
  CHECK(e[0].sharded);
  CHECK(e[2].type == kind::message);
  CHECK(e[2].sharded);
  CHECK(e[2].channel == "ts:{u:7}");

  // The slot of ts:{md:AAPL} moves: Redis sends a sunsubscribe nobody asked for, between our own
  // pipelined commands, and it is not mistaken for the reply to ours.
  p.send(encode_redis_command({"SUNSUBSCRIBE", "ts:{u:7}"}), redis_slot::sunsubscribe, 0, "ts:{u:7}");
  p.feed(confirmation("sunsubscribe", "ts:{md:AAPL}", 1) + confirmation("sunsubscribe", "ts:{u:7}", 0));
  e = events(p);
  REQUIRE(e.size() == 2);
  CHECK(e[0].type == kind::dropped);
  CHECK(e[0].name == "ts:{md:AAPL}");
  CHECK(e[1].type == kind::unsubscribed);
  CHECK(e[1].name == "ts:{u:7}");
  CHECK(e[1].sharded);
  CHECK(p.outstanding() == 0);
}

TEST_CASE("a command past its deadline times out and its late reply goes nowhere", "[redis_pipeline]") {
  redis_pipeline p(false);
  p.send(encode_redis_command({"GET", "a"}), redis_slot::command, 1, {}, 100ms);
  p.send(encode_redis_command({"GET", "b"}), redis_slot::command, 2, {}, 150ms);
  p.send(encode_redis_command({"SCRIPT", "LOAD", "return 1"}), redis_slot::quiet);
  p.send(encode_redis_command({"GET", "c"}), redis_slot::command, 3, {}, 300ms);
  CHECK(p.next_deadline() == 100ms);
  CHECK(p.expire(99ms).empty());
  CHECK(p.expire(160ms) == std::vector<std::uint64_t>{1, 2});
  CHECK(p.next_deadline() == 300ms);
  CHECK(p.expire(200ms).empty());
  // Late replies to 1 and 2, the script's sha, then 3's: only 3 is reported.
  p.feed("$1\r\nA\r\n$1\r\nB\r\n$40\r\ne0e1f9fabfc9d4800c877a703b823ac0578ff8db\r\n$1\r\nC\r\n");
  const auto e = events(p);
  REQUIRE(e.size() == 1);
  CHECK(e[0].token == 3);
  CHECK(e[0].value.str() == "C");
  CHECK_FALSE(p.next_deadline());
}

TEST_CASE("a lost connection hands back the unanswered commands in order", "[redis_pipeline]") {
  redis_pipeline p(false);
  p.send(encode_redis_command({"AUTH", "secret"}), redis_slot::auth);
  for (std::uint64_t t = 1; t <= 4; ++t) p.send(encode_redis_command({"INCR", "n"}), redis_slot::command, t, {}, 100ms);
  p.feed("+OK\r\n:1\r\n");
  auto e = events(p);
  REQUIRE(e.size() == 2);
  CHECK(e[0].type == kind::authenticated);
  CHECK(e[1].token == 1);
  CHECK(p.expire(100ms) == std::vector<std::uint64_t>{2, 3, 4});  // (2 now answered as timed out)
  p.send(encode_redis_command({"INCR", "n"}), redis_slot::command, 5);
  p.feed(":2\r\n");  // half-way through the replies the connection drops
  CHECK(events(p).empty());
  CHECK(p.reset() == std::vector<std::uint64_t>{5});
  CHECK(p.outstanding() == 0);
  CHECK(p.output().empty());
  // A new connection starts with a fresh parser: a half-read reply is gone with the old one.
  p.send(encode_redis_command({"PING"}), redis_slot::ping);
  p.feed("+PONG\r\n");
  e = events(p);
  REQUIRE(e.size() == 1);
  CHECK(e[0].type == kind::pong);
}

TEST_CASE("AUTH refused is reported with Redis's reason", "[redis_pipeline]") {
  redis_pipeline p(true);
  p.send(encode_redis_command({"AUTH", "edge", "wrong"}), redis_slot::auth);
  p.feed("-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  const auto e = events(p);
  REQUIRE(e.size() == 1);
  CHECK(e[0].type == kind::auth_refused);
  CHECK(e[0].text.starts_with("WRONGPASS"));
}

TEST_CASE("bytes nobody can match are a protocol error", "[redis_pipeline]") {
  SECTION("a reply with no command waiting") {
    redis_pipeline p(false);
    p.feed("+OK\r\n");
    auto e = p.next();
    REQUIRE_FALSE(e.ok());
    CHECK(e.err().code == "protocol_error");
  }
  SECTION("a confirmation of a channel never asked for") {
    redis_pipeline p(true);
    subscribe(p, redis_slot::subscribe, "a");
    p.feed(confirmation("subscribe", "b", 1));
    CHECK_FALSE(p.next().ok());
  }
  SECTION("not RESP at all") {
    redis_pipeline p(true);
    p.feed("HTTP/1.1 400 Bad Request\r\n\r\n");
    CHECK_FALSE(p.next().ok());
  }
}
