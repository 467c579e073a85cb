// The memory of a session's writes: the operation of a one-buffer write on a TCP socket, with a
// completion handler holding one shared_ptr as the session writer's does, fits in a block of the
// worker's pool and goes back to it; a gathered write's is allocated on its own.

#include <catch2/catch.hpp>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <memory>
#include <string>

#include "common/block_pool.hpp"
#include "edge/fanout/worker.hpp"

namespace net = boost::asio;
using net::ip::tcp;

TEST_CASE("write memory: a one-buffer write's operation fits a block and returns to the pool", "[pool]") {
  net::io_context ioc{1};
  tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0});
  tcp::socket client(ioc);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();

  tickstream::common::block_pool pool(tickstream::edge::worker::write_block_size, 16);
  const auto owner = std::make_shared<std::string>(R"({"type":"price_update","symbol":"AAPL"})");
  int done = 0;
  const auto write = [&](const auto& buffers) {
    net::async_write(server, buffers,
                     net::bind_allocator(tickstream::common::block_allocator<void>(pool),
                                         [owner, &done](const boost::system::error_code& ec, std::size_t) {
                                           CHECK_FALSE(ec);
                                           ++done;
                                         }));
    ioc.run();
    ioc.restart();
  };

  write(net::buffer(*owner));
  CHECK(done == 1);
  CHECK(pool.free_blocks() == 1);  // it fitted: freed into the pool, not to the system
  write(net::buffer(*owner));
  CHECK(done == 2);
  CHECK(pool.free_blocks() == 1);  // and the next write reused it

  const std::array<net::const_buffer, 2> gathered{net::buffer(*owner), net::buffer(*owner)};
  write(gathered);
  CHECK(done == 3);
  CHECK(pool.free_blocks() == 1);    // larger than a block: allocated and freed on its own,
  CHECK(pool.blocks_in_use() == 0);  // never counted as a block
  pool.trim();                       // and the peak was the one-buffer writes' one block
  CHECK(pool.free_blocks() == 1);

  std::string got(owner->size() * 4, '\0');
  net::read(client, net::buffer(got));
  CHECK(got == *owner + *owner + *owner + *owner);
}
