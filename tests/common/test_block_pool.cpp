#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "common/block_pool.hpp"

using tickstream::common::block_allocator;
using tickstream::common::block_pool;

TEST_CASE("block pool: a freed block is the next one handed out, and no more than max_free are kept", "[pool]") {
  block_pool pool(64, 2);
  void* a = pool.allocate(48);
  void* b = pool.allocate(64);
  void* c = pool.allocate(8);
  CHECK(pool.free_blocks() == 0);
  pool.deallocate(a, 48);
  pool.deallocate(b, 64);
  pool.deallocate(c, 8);  // a third free block: back to the system
  CHECK(pool.free_blocks() == 2);
  CHECK(pool.allocate(32) == b);  // last in, first out
  CHECK(pool.allocate(64) == a);
  CHECK(pool.free_blocks() == 0);
  pool.deallocate(a, 64);
  pool.deallocate(b, 32);
}

TEST_CASE("block pool: anything larger than a block is allocated and freed on its own", "[pool]") {
  block_pool pool(64, 8);
  void* big = pool.allocate(65);
  pool.deallocate(big, 65);
  CHECK(pool.free_blocks() == 0);
  void* small = pool.allocate(64);
  CHECK(small != nullptr);
  pool.deallocate(small, 64);
  CHECK(pool.free_blocks() == 1);
}

TEST_CASE("block pool: trim keeps as many free blocks as were in use at once since the last trim", "[pool]") {
  block_pool pool(64, 100);
  std::vector<void*> burst;
  for (int i = 0; i < 10; ++i) burst.push_back(pool.allocate(64));
  for (void* p : burst) pool.deallocate(p, 64);
  CHECK(pool.free_blocks() == 10);
  pool.trim();  // ten were in use at once: all ten kept for the next such peak
  CHECK(pool.free_blocks() == 10);
  void* a = pool.allocate(64);
  void* b = pool.allocate(64);
  pool.deallocate(a, 64);
  CHECK(pool.blocks_in_use() == 1);
  pool.trim();  // two at most this period: two kept
  CHECK(pool.free_blocks() == 2);
  pool.trim();  // one still in use and nothing more asked for: one kept
  CHECK(pool.free_blocks() == 1);
  pool.deallocate(b, 64);
  pool.trim();
  CHECK(pool.free_blocks() == 1);
  pool.trim();  // a period with nothing in use: nothing kept
  CHECK(pool.free_blocks() == 0);
  CHECK(pool.blocks_in_use() == 0);
}

TEST_CASE("block allocator: containers and rebound copies share one pool", "[pool]") {
  block_pool pool(sizeof(std::shared_ptr<int>) * 4, 16);
  {
    std::vector<int, block_allocator<int>> v{block_allocator<int>(pool)};
    v.reserve(4);  // 16 bytes: one block
    for (int i = 0; i < 4; ++i) v.push_back(i);
    CHECK(v[3] == 3);
    const block_allocator<long> rebound(v.get_allocator());
    CHECK(rebound == v.get_allocator());
    CHECK(rebound.pool() == &pool);
  }
  CHECK(pool.free_blocks() == 1);
  auto p = std::allocate_shared<int>(block_allocator<int>(pool), 7);
  CHECK(*p == 7);
  CHECK(pool.free_blocks() == 0);  // the control block took the free one
  p.reset();
  CHECK(pool.free_blocks() == 1);
}
