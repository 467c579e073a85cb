// RESP on its own: commands as written on the wire, and replies parsed from bytes split at every
// possible boundary (a socket may deliver any split).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/redis/resp.hpp"

using namespace tickstream::common;
using namespace std::string_literals;

namespace {

// Parses every reply in `wire` fed in two pieces split at `cut`.
std::vector<redis_reply> parse_split(const std::string& wire, std::size_t cut) {
  resp_reader r;
  std::vector<redis_reply> out;
  auto drain = [&] {
    for (;;) {
      auto v = r.next();
      REQUIRE(v.ok());
      if (!v.value()) return;
      out.push_back(v.value().copy());
    }
  };
  r.feed(std::string_view(wire).substr(0, cut));
  drain();
  r.feed(std::string_view(wire).substr(cut));
  drain();
  return out;
}

}  // namespace

TEST_CASE("commands are encoded as RESP arrays of bulk strings, binary-safe", "[resp]") {
  CHECK(format_redis_command(std::vector<std::string>{"SET", "k", "v"}) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
  CHECK(encode_redis_command({"PUBLISH", "ch", std::string_view("a\r\n\0b", 5)}) ==
        "*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$5\r\na\r\n\0b\r\n"s);
  CHECK(encode_redis_command({"PING"}) == "*1\r\n$4\r\nPING\r\n");
  CHECK(encode_redis_command({"GET", ""}) == "*2\r\n$3\r\nGET\r\n$0\r\n\r\n");
}

TEST_CASE("replies of every kind parse the same however the bytes are split", "[resp]") {
  const std::string wire =
      "+OK\r\n"
      "-NOPERM this user has no permissions to access one of the channels used as arguments\r\n"
      ":-42\r\n"
      "$5\r\nhel\r\n\r\n"
      "$-1\r\n"
      "*3\r\n$7\r\nmessage\r\n$12\r\nts:{md:AAPL}\r\n$4\r\n{\"a\"\r\n"
      "*2\r\n*1\r\n:1\r\n*0\r\n";
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    const auto replies = parse_split(wire, cut);
    REQUIRE(replies.size() == 7);
    CHECK(replies[0].type == redis_reply::kind::status);
    CHECK(replies[0].str == "OK");
    CHECK(replies[1].type == redis_reply::kind::error);
    CHECK(replies[1].str.starts_with("NOPERM"));
    CHECK(replies[2].type == redis_reply::kind::integer);
    CHECK(replies[2].integer == -42);
    CHECK(replies[3].type == redis_reply::kind::string);
    CHECK(replies[3].str == "hel\r\n");
    CHECK(replies[4].type == redis_reply::kind::nil);
    REQUIRE(replies[5].type == redis_reply::kind::array);
    REQUIRE(replies[5].elements.size() == 3);
    CHECK(replies[5].elements[1].str == "ts:{md:AAPL}");
    CHECK(replies[5].elements[2].str == "{\"a\"");
    REQUIRE(replies[6].elements.size() == 2);
    CHECK(replies[6].elements[0].elements[0].integer == 1);
    CHECK(replies[6].elements[1].elements.empty());
  }
}

TEST_CASE("a stream that is not RESP is a protocol error, not a crash", "[resp]") {
  resp_reader r;
  r.feed("+OK\r\n?what\r\n");
  auto first = r.next();
  REQUIRE(first.ok());
  CHECK(first.value().str() == "OK");
  auto second = r.next();
  REQUIRE_FALSE(second.ok());
  CHECK(second.err().code == "protocol_error");
  // It stays broken: the connection must be dropped.
  CHECK_FALSE(r.next().ok());
}

TEST_CASE("views into a parsed reply give its parts without copying", "[resp]") {
  resp_reader r;
  r.feed("*3\r\n$8\r\nsmessage\r\n$9\r\nts:{u:42}\r\n:7\r\n");
  auto v = r.next();
  REQUIRE(v.ok());
  const auto& value = v.value();
  CHECK(value.type() == redis_reply::kind::array);
  CHECK(value.size() == 3);
  CHECK(value.element_str(0) == "smessage");
  CHECK(value.element_str(1) == "ts:{u:42}");
  CHECK(value.element_type(2) == redis_reply::kind::integer);
  CHECK(value.element_str(2).empty());
  CHECK(value.element_type(9) == redis_reply::kind::nil);  // out of range
}
