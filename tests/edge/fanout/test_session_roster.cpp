// A worker's session roster: a heartbeat sweep visits every session open through the whole sweep
// exactly once, however sessions open and close between and during its visits.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "edge/fanout/session_roster.hpp"

using tickstream::edge::session_roster;

namespace {

struct fake_session {
  int id = 0;
};

}  // namespace

TEST_CASE("session roster: a sweep visits each session once, in batches", "[fanout]") {
  std::array<fake_session, 5> s{};
  session_roster<fake_session> r;
  for (auto& x : s) r.add(&x);
  std::vector<fake_session*> seen;
  r.begin_sweep();
  CHECK(r.sweep(2, [&](fake_session* p) { seen.push_back(p); }));
  CHECK(r.sweep(2, [&](fake_session* p) { seen.push_back(p); }));
  CHECK_FALSE(r.sweep(2, [&](fake_session* p) { seen.push_back(p); }));
  CHECK(seen.size() == 5);
  CHECK(std::set<fake_session*>(seen.begin(), seen.end()).size() == 5);
  r.remove(&s[0]);
  r.remove(&s[0]);  // twice: the second is a no-op
  CHECK(r.size() == 4);
  CHECK(std::find(r.begin(), r.end(), &s[0]) == r.end());
}

TEST_CASE("session roster: sessions closing and opening during a sweep never make it skip or repeat one", "[fanout]") {
  // Random opens and closes between batches and from inside visits (a visited session closing
  // itself, closing others, opening new ones), checked against what the sweep must visit: every
  // session open from its start to its end exactly once, nothing closed before its visit, nothing twice.
  std::mt19937 rng(7);
  std::vector<fake_session> pool(400);
  for (int i = 0; i < 400; ++i) pool[static_cast<std::size_t>(i)].id = i;
  for (int round = 0; round < 200; ++round) {
    session_roster<fake_session> r;
    std::set<fake_session*> open;
    std::vector<fake_session*> closed_pool;
    closed_pool.reserve(pool.size());
    for (auto& p : pool) closed_pool.push_back(&p);
    std::shuffle(closed_pool.begin(), closed_pool.end(), rng);
    auto open_one = [&] {
      if (closed_pool.empty()) return;
      auto* p = closed_pool.back();
      closed_pool.pop_back();
      r.add(p);
      open.insert(p);
    };
    std::set<fake_session*> closed_during;
    auto close_random = [&] {
      if (open.empty()) return;
      auto it = open.begin();
      std::advance(it, static_cast<long>(rng() % open.size()));
      auto* p = *it;
      open.erase(it);
      r.remove(p);  // not reopened this round: a session that reopens is a new one
      closed_during.insert(p);
    };
    for (int i = 0; i < 100; ++i) open_one();
    const std::set<fake_session*> at_start = open;
    closed_during.clear();
    std::map<fake_session*, int> visits;
    r.begin_sweep();
    bool more = true;
    while (more) {
      more = r.sweep(1 + rng() % 7, [&](fake_session* p) {
        CHECK(open.contains(p));  // never a closed one
        ++visits[p];
        switch (rng() % 6) {
          case 0:  // closes itself
            open.erase(p);
            r.remove(p);
            closed_during.insert(p);
            break;
          case 1: close_random(); break;  // closes another (or itself)
          case 2: open_one(); break;
          default: break;
        }
      });
      if (rng() % 3 == 0) close_random();
      if (rng() % 3 == 0) open_one();
    }
    for (auto* p : at_start) {
      if (!closed_during.contains(p)) CHECK(visits[p] == 1);  // open throughout: exactly once
    }
    for (const auto& [p, n] : visits) CHECK(n == 1);
    CHECK(r.size() == open.size());
  }
}
