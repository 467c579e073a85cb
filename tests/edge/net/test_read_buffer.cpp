// A connection's read buffer: no storage while it is empty and waiting, the small size for the usual
// message, grown for a large one up to the limit, back to small once drained.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <string_view>

#include "edge/net/read_buffer.hpp"

using tickstream::edge::read_buffer;

namespace {

// Appends bytes as a socket read would: room, copy, commit.
void receive(read_buffer& b, std::string_view bytes) {
  while (!bytes.empty()) {
    REQUIRE(b.make_room());
    const auto n = std::min(bytes.size(), b.space_size());
    std::memcpy(b.space(), bytes.data(), n);
    b.commit(n);
    bytes.remove_prefix(n);
  }
}

std::string_view contents(read_buffer& b) { return {b.data(), b.size()}; }

}  // namespace

TEST_CASE("read buffer: an idle connection holds no storage, and a read gets the small size", "[limits]") {
  read_buffer b(256, 64 * 1024);
  b.assign({});  // nothing followed the upgrade request
  CHECK(b.capacity() == 0);
  receive(b, "hello");
  CHECK(b.capacity() == 256);
  CHECK(contents(b) == "hello");
  b.release();  // bytes still buffered: kept
  CHECK(contents(b) == "hello");
  b.consume(5);
  b.release();
  CHECK(b.capacity() == 0);
  CHECK(b.size() == 0);
  b.consume(0);  // nothing parsed from an empty buffer without storage (the sanitizers check this)
  b.clear();
  CHECK(b.capacity() == 0);
}

TEST_CASE("read buffer: bytes after the upgrade request are kept, and a large message grows it to the limit and back",
          "[limits]") {
  read_buffer b(256, 4096);
  b.assign("early");
  CHECK(contents(b) == "early");
  const std::string big(3000, 'x');
  receive(b, big);
  CHECK(b.size() == 3005);
  CHECK(b.capacity() == 4096);
  b.consume(5);
  CHECK(contents(b) == big);
  b.consume(big.size());
  CHECK(b.capacity() == 256);  // drained after a large message: back to small
  receive(b, std::string(4096, 'y'));
  CHECK_FALSE(b.make_room());  // full at the limit
}
