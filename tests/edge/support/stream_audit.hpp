#pragma once
// Shared by the tests that put the whole tier through a Redis failure (an outage, a failover):
// orders posted to ingest's signed webhook, WebSocket clients read on threads of their own, and a
// walk through what each client received that counts the private seqs it missed undetected.

#include <catch2/catch.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/ws_client.hpp"
#include "common/clock.hpp"
#include "common/event_codec.hpp"
#include "ingest/sources/webhook_signature.hpp"
#include "tests/edge/support/user_clients.hpp"

namespace tickstream::test::audit_support {

using namespace std::chrono_literals;

inline constexpr std::string_view secret = "a-long-shared-secret";

inline std::string order_json(int n) {
  common::order_update o;
  o.header = test::header_for("trader", "app");
  o.order_id = "o" + std::to_string(n);
  o.broker_order_id = "b" + std::to_string(n);
  o.symbol = "AAPL";
  o.side = "buy";
  o.order_type = "limit";
  o.status = "canceled";  // closed at once: snapshots stay small
  o.qty = "1";
  o.submitted_at_us = o.header.time_us;
  return common::encode_event(common::event(o));
}

inline unsigned post(int port, const std::string& body) {
  const auto ts = common::now_us() / 1'000'000;
  auto r = client::http_request("127.0.0.1", std::to_string(port), "POST", "/v1/events", 5s,
                                {{"X-Tickstream-Timestamp", std::to_string(ts)},
                                 {"X-Tickstream-Signature", ingest::sign_webhook(secret, ts, body)},
                                 {"Content-Type", "application/json"}},
                                body);
  return r.ok() ? r->status : 0;
}

inline bool ready(int port) {
  auto r = client::http_get("127.0.0.1", std::to_string(port), "/readyz", 1s);
  return r.ok() && r->status == 200;
}

// Reads one client on its own thread: every message, batches unpacked.
struct screen {
  std::unique_ptr<client::ws_client> ws;
  std::mutex mu;
  std::vector<std::string> messages;
  std::atomic<bool> stop{false};
  std::thread reader;

  explicit screen(std::unique_ptr<client::ws_client> c) : ws(std::move(c)) {
    reader = std::thread([this] {
      while (!stop) {
        auto f = ws->next(50ms);
        if (!f) {
          if (ws->closed()) return;
          continue;
        }
        rapidjson::Document d;
        d.Parse(f->c_str());
        std::lock_guard lock(mu);
        if (!d.HasParseError() && std::string_view(d["type"].GetString()) == "batch") {
          for (const auto& e : d["events"].GetArray()) {
            rapidjson::StringBuffer b;
            rapidjson::Writer<rapidjson::StringBuffer> w(b);
            e.Accept(w);
            messages.emplace_back(b.GetString(), b.GetSize());
          }
        } else {
          messages.push_back(*f);
        }
      }
    });
  }
  ~screen() {
    stop = true;
    reader.join();
  }
  std::vector<std::string> copy() {
    std::lock_guard lock(mu);
    return messages;
  }
};

struct audit {
  std::int64_t last_seq = 0;
  int resyncs = 0;
  int gaps = 0;
  int ticks_after = 0;  // price updates after `mark`
};

// Walks a transcript: seqs must be consecutive, except that a snapshot or resync states the seq
// from which the stream goes on.
inline audit walk(const std::vector<std::string>& messages, std::size_t mark) {
  audit a;
  std::int64_t expect = -1;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    rapidjson::Document d;
    d.Parse(messages[i].c_str());
    if (d.HasParseError() || !d.HasMember("type")) continue;
    const std::string_view type = d["type"].GetString();
    if (type == "price_update" && i >= mark) ++a.ticks_after;
    if (type == "snapshot" || type == "resync") {
      if (type == "resync") ++a.resyncs;
      expect = d["seq"].GetInt64() + 1;
      a.last_seq = d["seq"].GetInt64();
      continue;
    }
    if (type != "order_update" || !d.HasMember("seq")) continue;
    const auto seq = d["seq"].GetInt64();
    if (seq != expect) {
      ++a.gaps;
      FAIL_CHECK("expected seq " << expect << ", got " << seq);
    }
    expect = seq + 1;
    a.last_seq = seq;
  }
  return a;
}

}  // namespace tickstream::test::audit_support
