#pragma once
// The Alpaca Broker API's trade events for every account this worker serves: one Server-Sent
// Events stream (GET <url>/v2/events/trades, HTTP Basic auth with the broker's key and secret)
// for all customer accounts, each event mapped to its user and stored like the trading stream's.
//
// Nothing is lost or applied twice across a restart: the id of the last event such that it and
// every event before it are stored (event_cursor) is kept in Redis (common::broker_cursor_key),
// and every connection, first or again, asks for the events after it with since_id. What was
// stored but not yet counted in the kept id is delivered again and de-duplicated by the store
// (by execution id for fills, by order, event and time otherwise). An event whose store failed
// reads the stream again from the kept id. "you are reading too slowly, dropped N messages"
// (the broker dropped events for this consumer) reads it again from the kept id too.
//
// Threading: runs on the io_context given; publish completions are posted back to it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/event.hpp"
#include "common/redis/redis_client.hpp"
#include "ingest/normalize/broker_events_normalizer.hpp"
#include "ingest/sources/sse_source.hpp"

namespace boost::asio {
class io_context;
}

namespace tickstream::ingest {

class broker_event_stream {
 public:
  struct options {
    std::string url;  // the Broker API, e.g. https://broker-api.sandbox.alpaca.markets (no trailing slash)
    std::string key, secret;
    std::string cursor_key;  // where the resume cursor lives in Redis
    std::chrono::milliseconds reconnect_min{500};
    std::chrono::milliseconds reconnect_max{30'000};
    std::chrono::milliseconds idle_timeout{0};
  };
  // Publishes ev; done(true) once it is stored or known as a duplicate, done(false) otherwise.
  using publish_fn = std::function<void(const common::event&, std::function<void(bool)> done)>;
  // Input that could not be used (counted, logged, dead-lettered by the caller).
  using reject_fn = std::function<void(const common::error&, std::string_view raw, std::int64_t recv_us)>;

  broker_event_stream(boost::asio::io_context& ioc, options o, common::redis_client& redis, account_lookup users,
                      publish_fn publish, reject_fn reject);
  ~broker_event_stream();
  broker_event_stream(const broker_event_stream&) = delete;
  broker_event_stream& operator=(const broker_event_stream&) = delete;

  void start();  // reads the cursor from Redis, then connects
  void stop();

  const sse_source& source() const noexcept;
  // Connections made so far (each a 200 with events following): one more after each reconnect.
  std::uint64_t connections() const noexcept;

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

}  // namespace tickstream::ingest
