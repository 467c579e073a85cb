// The accounts registry as a Redis hash: 100 accounts on one ingest, one whose credentials the
// broker refuses and one whose upstream hangs, the other 98 streaming; accounts added, changed and
// removed in the hash are taken up while the ingest runs.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/socket.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/child_process.hpp"
#include "tests/support/fake_upstream.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_file.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::wait_until;

namespace {

// An Alpaca trading stream serving many accounts at once (a thread per connection), each told
// apart by its key: "PK-<user>". The key of "hang" gets no answer; "refused" is unauthorized.
class trading_broker {
 public:
  trading_broker() : acceptor_(ioc_, {test::net::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] {
      while (!stop_) {
        auto sock = std::make_shared<test::tcp::socket>(ioc_);
        boost::system::error_code ec;
        acceptor_.accept(*sock, ec);
        if (ec || stop_) return;
        std::lock_guard lock(mu_);
        fds_.push_back(sock->native_handle());
        threads_.emplace_back([this, sock] { serve(std::move(*sock)); });
      }
    });
  }
  ~trading_broker() {
    stop_ = true;
    boost::system::error_code ec;
    test::tcp::socket poke(ioc_);
    poke.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
    // Joined without the lock: a connection's thread woken here takes it on its way out.
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);  // wakes the blocked reads
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();
  }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/stream"; }
  std::set<std::string> closed() {
    std::lock_guard lock(mu_);
    return closed_;
  }

 private:
  void serve(test::tcp::socket sock) {
    std::string user;
    try {
      test::upstream_connection ws(std::move(sock));
      const auto auth = ws.read_text();
      const auto at = auth.find("\"key\":\"PK-");
      user = at == std::string::npos ? "" : auth.substr(at + 10, auth.find('"', at + 10) - at - 10);
      ws.text(true);
      if (user == "hang") {
        ws.read_text();  // until the ingest or the test closes it
        return;
      }
      if (user.empty() || user == "refused") {
        ws.write(R"({"stream":"authorization","data":{"status":"unauthorized"}})");
        return;
      }
      ws.write(R"({"stream":"authorization","data":{"status":"authorized"}})");
      ws.read_text();  // listen
      ws.write(R"({"stream":"listening","data":{"streams":["trade_updates"]}})");
      ws.write(R"({"stream":"trade_updates","data":{"event":"new","timestamp":"2026-11-23T14:30:00Z",)"
               R"("order":{"id":"b-)" +
               user +
               R"(","client_order_id":"o-1","symbol":"AAPL","side":"buy","type":"limit",)"
               R"("status":"new","qty":"1","submitted_at":"2026-11-23T14:30:00Z"}}})");
      ws.read_text();  // until the ingest closes it
    } catch (const std::exception&) {
      std::lock_guard lock(mu_);
      if (!stop_) closed_.insert(user);
    }
  }

  test::net::io_context ioc_;
  test::tcp::acceptor acceptor_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
  std::set<std::string> closed_;
  std::thread thread_;
};

std::string seq_of(const test::redis_server& redis, const std::string& user) {
  return redis.cli({"GET", "ts:{u:" + user + "}:seq"});
}

}  // namespace

TEST_CASE("100 accounts from the registry hash, one refused and one hanging, the other 98 stream", "[accounts]") {
  test::redis_server redis;
  trading_broker broker;
  // Every account's key and secret in a file of its own; the key names the user to the broker.
  std::vector<std::string> users;
  for (int i = 0; i < 98; ++i) users.push_back("u" + std::to_string(i));
  users.emplace_back("refused");
  users.emplace_back("hang");
  std::vector<std::unique_ptr<test::temp_file>> keys;
  std::vector<std::string> hset{"HSET", "ts:accounts"};
  for (const auto& u : users) {
    keys.push_back(std::make_unique<test::temp_file>("tickstream-key"));
    std::ofstream(keys.back()->path()) << "PK-" << u << "\n";
    hset.push_back(u);
    hset.push_back("file:" + keys.back()->path() + " file:" + keys.back()->path());
  }
  hset.emplace_back("inline");
  hset.emplace_back("PKXXXX secretvalue");  // not a reference: left out
  redis.cli(hset);
  std::vector<std::string> mget{"MGET"};
  for (int i = 0; i < 98; ++i) mget.push_back("ts:{u:" + users[i] + "}:seq");
  const test::temp_file log("tickstream-accounts-hash-log");
  test::child_process ingest({TICKSTREAM_INGEST_BIN, "--alpaca-trading-url", broker.url(), "--accounts-hash",
                              "ts:accounts", "--accounts-refresh-s", "1", "--redis-port", std::to_string(redis.port())},
                             log.path());
  std::string all_one;
  for (int i = 0; i < 98; ++i) all_one += "1\n";
  REQUIRE(wait_until([&] { return redis.cli(mget) == all_one; }, 20s));
  CHECK(redis.cli({"EXISTS", "ts:{u:refused}:seq"}) == "0\n");
  CHECK(redis.cli({"EXISTS", "ts:{u:hang}:seq"}) == "0\n");
  CHECK(log.text().find("user 'inline'") != std::string::npos);
  CHECK(log.text().find("secretvalue") == std::string::npos);

  // Added, changed and removed while it runs: "late" streams, "u0" is stopped.
  keys.push_back(std::make_unique<test::temp_file>("tickstream-key"));
  std::ofstream(keys.back()->path()) << "PK-late\n";
  redis.cli({"HSET", "ts:accounts", "late", "file:" + keys.back()->path() + " file:" + keys.back()->path()});
  redis.cli({"HDEL", "ts:accounts", "u0"});
  REQUIRE(wait_until([&] { return seq_of(redis, "late") == "1\n"; }, 10s));
  REQUIRE(wait_until([&] { return broker.closed().count("u0") == 1; }, 10s));
  CHECK(broker.closed().count("u1") == 0);
  ingest.signal(SIGTERM);
  const auto status = ingest.wait(10s);
  REQUIRE(status);
  CHECK(*status == 0);
  CHECK(log.text().find("PK-") == std::string::npos);  // no key in the log
}
