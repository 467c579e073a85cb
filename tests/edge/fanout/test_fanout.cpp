// The fan-out and its workers against a real redis-server, without sockets to clients: routing by
// the channel table's holders, confirmations per worker, and the re-confirmation after a reconnect
// that makes a user's sessions check their stream for a gap.
#include <catch2/catch.hpp>

#include <boost/asio/post.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/event_codec.hpp"
#include "common/redis/keys.hpp"
#include "common/redis/redis_client.hpp"
#include "edge/fanout/fanout.hpp"
#include "edge/fanout/frame_sink.hpp"
#include "edge/fanout/worker.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/wait.hpp"

using namespace tickstream;
using namespace std::chrono_literals;
using test::wait_until;

namespace {

// A session stand-in: records what its worker hands it (on the worker's thread; read by the test).
class recorder final : public edge::frame_sink {
 public:
  explicit recorder(bool throws = false) : throws_(throws) {}
  void send(const edge::frame_ptr& f) override {
    if (throws_) throw std::runtime_error("send failed");
    std::lock_guard lock(mu_);
    payloads_.emplace_back(f->payload());
  }
  void shutdown() override {}
  void tick(std::chrono::steady_clock::time_point) override {}
  void resubscribed(const std::string& route) override {
    std::lock_guard lock(mu_);
    resubscribed_.push_back(route);
  }

  std::vector<std::string> payloads() {
    std::lock_guard lock(mu_);
    return payloads_;
  }
  std::vector<std::string> resubscribed_routes() {
    std::lock_guard lock(mu_);
    return resubscribed_;
  }
  std::atomic<int> active{0};  // subscribe confirmations

 private:
  std::mutex mu_;
  std::vector<std::string> payloads_;
  std::vector<std::string> resubscribed_;
  bool throws_;
};

std::string tick_json(const std::string& symbol) {
  common::price_update t;
  t.symbol = symbol;
  t.price = "100.5";
  t.source_time_us = 1'795'185'000'000'000;
  t.recv_time_us = 1'795'185'000'000'100;
  t.source = "test";
  return common::encode_event(t);
}

// Redis, the fan-out on the Redis client's thread, and two workers, wired as edge/app.cpp does.
struct fanout_fixture {
  test::redis_server server;
  edge::edge_metrics metrics;
  edge::fanout fan{metrics, "ts:test:edge"};
  common::redis_client redis{
      [this] {
        common::redis_options o;
        o.port = server.port();
        o.subscriber = true;
        o.reconnect_min = 20ms;
        o.reconnect_max = 200ms;
        o.control_channel = "ts:test:edge";
        o.after_io = [this] { fan.flush(); };
        return o;
      }(),
      [this](std::string_view channel, std::string_view payload) { fan.on_message(channel, payload); }};
  common::redis_client pub{[this] {
    common::redis_options o;
    o.port = server.port();
    return o;
  }()};
  std::vector<std::unique_ptr<edge::worker>> workers;
  std::vector<std::pair<edge::worker*, recorder*>> sessions;

  fanout_fixture() {
    std::vector<edge::worker*> raw;
    for (std::size_t i = 0; i < 2; ++i) {
      workers.push_back(std::make_unique<edge::worker>(i, fan, 50ms));
      raw.push_back(workers.back().get());
    }
    fan.attach(redis, raw);
    redis.start();
    pub.start();
    for (auto& w : workers) w->start();
  }

  ~fanout_fixture() {
    for (auto [w, s] : sessions) on(*w, [w = w, s = s] { w->remove_session(s); });
    redis.stop();  // nothing posts to the workers any more
    for (auto& w : workers) w->stop(0ms);
    for (auto& w : workers) w->join();
  }

  // Runs fn on w's thread and waits for it.
  template <class Fn>
  static void on(edge::worker& w, Fn fn) {
    std::promise<void> done;
    boost::asio::post(w.context(), [&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }

  void subscribe(std::size_t worker_id, recorder& s, const std::string& route) {
    auto& w = *workers[worker_id];
    sessions.emplace_back(&w, &s);
    on(w, [&] {
      w.add_session(&s);
      w.subscribe(&s, route, [&s] { ++s.active; });
    });
  }

  long long publish(const std::string& channel, const std::string& payload) {
    std::atomic<long long> receivers{-1};
    pub.command({"PUBLISH", channel, payload},
                [&](common::result<common::redis_reply> r) { receivers = r.ok() ? r->integer : -2; });
    REQUIRE(wait_until([&] { return receivers.load() != -1; }));
    return receivers.load();
  }
};

}  // namespace

TEST_CASE("each message goes to the workers holding its channel, once Redis has confirmed it", "[fanout]") {
  recorder a, m, both;  // outlive the fixture, which takes them off their workers
  fanout_fixture fx;
  fx.subscribe(0, a, "AAPL");
  fx.subscribe(1, m, "MSFT");
  fx.subscribe(1, both, "AAPL");
  REQUIRE(wait_until([&] { return a.active == 1 && m.active == 1 && both.active == 1; }));
  // One SUBSCRIBE per channel whatever the number of workers holding it.
  CHECK(fx.server.cli({"PUBSUB", "NUMSUB", "ts:{md:AAPL}", "ts:{md:MSFT}"}) == "ts:{md:AAPL}\n1\nts:{md:MSFT}\n1\n");

  CHECK(fx.publish(common::market_channel("AAPL"), tick_json("AAPL")) == 1);
  CHECK(fx.publish(common::market_channel("MSFT"), tick_json("MSFT")) == 1);
  REQUIRE(
      wait_until([&] { return a.payloads().size() == 1 && m.payloads().size() == 1 && both.payloads().size() == 1; }));
  CHECK(a.payloads() == std::vector<std::string>{tick_json("AAPL")});
  CHECK(both.payloads() == std::vector<std::string>{tick_json("AAPL")});
  CHECK(m.payloads() == std::vector<std::string>{tick_json("MSFT")});
  REQUIRE(wait_until([&] { return fx.metrics.redis_channels.Value() == 2; }));

  // Worker 0 lets go of AAPL: worker 1 still holds it, so it stays subscribed and only worker 1 hears it.
  fanout_fixture::on(*fx.workers[0], [&] { fx.workers[0]->unsubscribe(&a, "AAPL"); });
  CHECK(fx.publish(common::market_channel("AAPL"), tick_json("AAPL")) == 1);
  REQUIRE(wait_until([&] { return both.payloads().size() == 2; }));
  CHECK(a.payloads().size() == 1);
  fanout_fixture::on(*fx.workers[1], [&] { fx.workers[1]->unsubscribe(&both, "AAPL"); });
  REQUIRE(wait_until([&] { return fx.server.cli({"PUBSUB", "NUMSUB", "ts:{md:AAPL}"}) == "ts:{md:AAPL}\n0\n"; }));
  REQUIRE(wait_until([&] { return fx.metrics.redis_channels.Value() == 1; }));
}

TEST_CASE("after the subscriber connection comes back, a user's sessions are told to check for a gap", "[fanout]") {
  recorder user, ticks;
  fanout_fixture fx;
  fx.subscribe(0, user, edge::user_route("u-1"));
  fx.subscribe(1, ticks, "AAPL");
  REQUIRE(wait_until([&] { return user.active == 1 && ticks.active == 1; }));
  CHECK(user.resubscribed_routes().empty());

  fx.server.kill();
  REQUIRE(wait_until([&] { return !fx.redis.subscriber_connected(); }));
  fx.server.restart();
  // Events published while the connection was down are lost to pub/sub: once Redis confirms the
  // user's channel again, the worker tells the user's sessions (which read the history from their
  // last seq). Market routes have no history to check.
  REQUIRE(wait_until([&] { return !user.resubscribed_routes().empty(); }, 20s));
  CHECK(user.resubscribed_routes() == std::vector<std::string>{edge::user_route("u-1")});
  CHECK(user.active == 1);  // the subscribe was answered once
  REQUIRE(wait_until([&] { return fx.publish(common::market_channel("AAPL"), tick_json("AAPL")) == 1; }));
  REQUIRE(wait_until([&] { return ticks.payloads().size() == 1; }));
  CHECK(ticks.resubscribed_routes().empty());
}

namespace {

// One worker with no Redis behind it, started; stopped and joined at the end.
struct lone_worker {
  explicit lone_worker(std::chrono::milliseconds tick) : w(0, fan, tick) { w.start(); }
  ~lone_worker() {
    w.stop(0ms);
    w.join();
  }
  lone_worker(const lone_worker&) = delete;
  lone_worker& operator=(const lone_worker&) = delete;

  edge::edge_metrics metrics;
  edge::fanout fan{metrics, "ts:test:edge"};
  edge::worker w;
};

// A session stand-in for the heartbeat sweep: counts the ticks of all of them in one counter.
class ticking_sink final : public edge::frame_sink {
 public:
  explicit ticking_sink(std::function<void()> on_tick) : on_tick_(std::move(on_tick)) {}
  void set_on_tick(std::function<void()> on_tick) { on_tick_ = std::move(on_tick); }
  void send(const edge::frame_ptr&) override {}
  void shutdown() override {}
  void tick(std::chrono::steady_clock::time_point) override {
    ++ticks;
    if (on_tick_) on_tick_();
  }
  void resubscribed(const std::string&) override {}
  int ticks = 0;  // the worker's thread only

 private:
  std::function<void()> on_tick_;
};

}  // namespace

TEST_CASE("the heartbeat sweep runs in batches, with other work between them", "[fanout][heartbeat]") {
  lone_worker lone(20ms);
  auto& w = lone.w;
  constexpr int n = 3000;  // many batches
  constexpr int batch = static_cast<int>(edge::worker::sweep_batch);
  static_assert(batch < n / 2);
  // The worker's thread only, from here on:
  std::vector<std::unique_ptr<ticking_sink>> sinks;
  int swept = 0;                      // ticks in the first sweep
  int ticked_before_posted_ran = -1;  // how many had ticked when work posted at its first tick ran
  ticking_sink* closed = nullptr;     // a session closed during the sweep, before its turn
  std::promise<void> first_sweep_done;
  const auto on_tick = [&](ticking_sink* self) {
    if (swept < 0) return;  // later sweeps
    if (++swept == 1) {
      boost::asio::post(w.context(), [&] { ticked_before_posted_ran = swept < 0 ? n - 1 : swept; });
      for (auto& s : sinks) {
        if (s.get() != self && s->ticks == 0) {
          closed = s.get();
          break;
        }
      }
      w.remove_session(closed);
    }
    if (swept == n - 1) {
      swept = -1;
      first_sweep_done.set_value();
    }
  };
  fanout_fixture::on(w, [&] {
    for (int i = 0; i < n; ++i) {
      sinks.push_back(std::make_unique<ticking_sink>(nullptr));
      auto* s = sinks.back().get();
      s->set_on_tick([&on_tick, s] { on_tick(s); });
      w.add_session(s);
    }
  });
  REQUIRE(first_sweep_done.get_future().wait_for(5s) == std::future_status::ready);
  int never = 0;
  fanout_fixture::on(w, [&] {
    for (auto& s : sinks) never += s->ticks == 0 ? 1 : 0;
  });
  // Work posted during the sweep ran after the first batch (one tick fewer if the closed session
  // was in it), long before the sweep's end.
  CHECK(ticked_before_posted_ran >= batch - 1);
  CHECK(ticked_before_posted_ran <= batch);
  // Every open session was ticked; the one closed before its turn was not touched.
  CHECK(closed->ticks == 0);
  CHECK(never == 1);
  fanout_fixture::on(w, [&] {
    for (auto& s : sinks) w.remove_session(s.get());
  });
}

namespace {

// A session stand-in for the write turn: counts its turns to write, and throws where told to.
class writing_sink final : public edge::frame_sink {
 public:
  explicit writing_sink(bool throws = false) : throws_(throws) {}
  void send(const edge::frame_ptr&) override {
    if (throws_) throw std::runtime_error("send failed");
  }
  void write_queued() override {
    ++writes;
    if (throws_) throw std::runtime_error("write failed");
  }
  void shutdown() override {}
  void tick(std::chrono::steady_clock::time_point) override {}
  std::atomic<int> writes{0};

 private:
  bool throws_;
};

}  // namespace

TEST_CASE("a delivery or a write that throws leaves the worker's later writes on time", "[fanout]") {
  lone_worker lone(1h);
  auto& w = lone.w;
  auto failing = std::make_shared<writing_sink>(true);
  auto good = std::make_shared<writing_sink>();
  fanout_fixture::on(w, [&] { w.add_session(failing.get()); });

  // A broadcast whose delivery throws: the round still ends, so a write asked for outside any
  // round is posted and done, not left waiting for a round's end that never comes.
  w.post_broadcast(edge::make_text_frame(edge::frame_kind::control, {}, R"({"type":"notice"})"));
  fanout_fixture::on(w, [&] { w.write_soon(good); });
  REQUIRE(wait_until([&] { return good->writes == 1; }));

  // One session's write throws: the sessions queued after it in the same turn are written, and
  // later turns go on.
  fanout_fixture::on(w, [&] {
    w.write_soon(failing);
    w.write_soon(good);
  });
  REQUIRE(wait_until([&] { return good->writes == 2; }));
  CHECK(failing->writes == 1);
  fanout_fixture::on(w, [&] { w.write_soon(good); });
  REQUIRE(wait_until([&] { return good->writes == 3; }));
  CHECK(failing->writes == 1);

  fanout_fixture::on(w, [&] { w.remove_session(failing.get()); });
}

TEST_CASE("a message that fails to deliver does not hold back the rest of its round", "[fanout]") {
  recorder failing(true), good;
  fanout_fixture fx;  // two workers: Redis's messages reach them in one hand-off per round
  fx.subscribe(0, failing, "BAD");
  fx.subscribe(0, good, "GOOD");
  REQUIRE(wait_until([&] { return failing.active == 1 && good.active == 1; }));
  // One hand-off holding both messages, the failing one first, as fanout::flush makes it.
  fx.workers[0]->post_deliver({edge::make_text_frame(edge::frame_kind::tick, "BAD", tick_json("BAD")),
                               edge::make_text_frame(edge::frame_kind::tick, "GOOD", tick_json("GOOD"))});
  REQUIRE(wait_until([&] { return good.payloads().size() == 1; }));
  CHECK(good.payloads() == std::vector<std::string>{tick_json("GOOD")});
}
