#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "edge/fanout/subscription_index.hpp"

using tickstream::edge::subscription_index;

namespace {

std::vector<int> subscribers(const subscription_index<int>& idx, const std::string& key) {
  std::vector<int> out;
  idx.for_each(key, [&](int s) { out.push_back(s); });
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("add reports the first subscriber of a key and remove the last", "[index]") {
  subscription_index<int> idx;
  CHECK(idx.add("AAPL", 1));
  CHECK_FALSE(idx.add("AAPL", 2));
  CHECK_FALSE(idx.add("AAPL", 1));  // duplicate: no change
  CHECK(subscribers(idx, "AAPL") == std::vector<int>{1, 2});
  CHECK_FALSE(idx.remove("AAPL", 1));
  CHECK_FALSE(idx.remove("AAPL", 1));  // absent: no change
  CHECK(idx.remove("AAPL", 2));
  CHECK(idx.key_count() == 0);
  CHECK(idx.subscriber_total() == 0);
}

TEST_CASE("remove_all drops a subscriber everywhere and names the keys left empty", "[index]") {
  subscription_index<int> idx;
  idx.add("AAPL", 1);
  idx.add("MSFT", 1);
  idx.add("MSFT", 2);
  idx.add("NVDA", 1);
  std::set<std::string> emptied;
  idx.remove_all(1, [&](const std::string& k) { emptied.insert(k); });
  CHECK(emptied == std::set<std::string>{"AAPL", "NVDA"});
  CHECK(subscribers(idx, "MSFT") == std::vector<int>{2});
  CHECK(idx.key_count(1) == 0);
  CHECK(idx.key_count() == 1);
}

TEST_CASE("the two maps stay mirrors under random operations", "[index]") {
  // Model check against a plain set of pairs.
  subscription_index<int> idx;
  std::set<std::pair<std::string, int>> model;
  std::mt19937 rng(12345);
  const std::vector<std::string> keys = {"A", "B", "C", "D", "E"};
  for (int step = 0; step < 20000; ++step) {
    const auto& key = keys[rng() % keys.size()];
    const int sub = static_cast<int>(rng() % 8);
    const auto op = rng() % 10;
    if (op < 5) {
      const bool first = std::none_of(model.begin(), model.end(), [&](const auto& p) { return p.first == key; });
      const bool had = model.count({key, sub}) > 0;
      CHECK(idx.add(key, sub) == (first && !had));
      model.insert({key, sub});
    } else if (op < 9) {
      const bool had = model.erase({key, sub}) > 0;
      const bool last = had && std::none_of(model.begin(), model.end(), [&](const auto& p) { return p.first == key; });
      CHECK(idx.remove(key, sub) == last);
    } else {
      std::set<std::string> expect_emptied;
      for (auto it = model.begin(); it != model.end();) {
        if (it->second == sub) {
          const std::string k = it->first;
          it = model.erase(it);
          if (std::none_of(model.begin(), model.end(), [&](const auto& p) { return p.first == k; })) {
            expect_emptied.insert(k);
          }
        } else {
          ++it;
        }
      }
      std::set<std::string> emptied;
      idx.remove_all(sub, [&](const std::string& k) { emptied.insert(k); });
      CHECK(emptied == expect_emptied);
    }
  }
  for (const auto& key : keys) {
    std::vector<int> expected;
    for (const auto& [k, s] : model) {
      if (k == key) expected.push_back(s);
    }
    CHECK(subscribers(idx, key) == expected);
  }
}
