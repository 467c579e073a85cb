#pragma once
// The protocol side of one client connection: what its messages mean (subscribe, unsubscribe,
// refresh, ping), its subscriptions on the worker, its private stream, snapshots, and the source
// notices it depends on. It never touches the socket: it talks to its ws_session through
// session_output, and the session hands it what arrives.
//
// Threading: owned by its ws_session and used on that session's worker thread only.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edge/auth/authenticator.hpp"
#include "edge/auth/entitlement_records.hpp"
#include "edge/net/message_rate.hpp"
#include "edge/net/services.hpp"
#include "edge/net/session_output.hpp"
#include "edge/portfolio/private_feed.hpp"
#include "edge/protocol/client_protocol.hpp"
#include "edge/protocol/frame.hpp"

namespace tickstream::edge {

struct subscribe_plan;
struct unsubscribe_plan;

class frame_sink;
class worker;

class session_handler final : private private_feed::host {
 public:
  using clock = std::chrono::steady_clock;

  // sink: the connection as the worker knows it (its subscriptions are held under it).
  // awaiting_auth: opened without credentials; the first message must be an in-band "auth".
  // address: the client's (for the per-address subscription limit).
  session_handler(session_output& out, frame_sink& sink, worker& w, services& svc, identity who,
                  bool awaiting_auth = false, std::string address = {});
  ~session_handler();
  session_handler(const session_handler&) = delete;
  session_handler& operator=(const session_handler&) = delete;

  const identity& who() const noexcept { return who_; }

  // The connection is open (its handshake is out): it counts in the census until destroyed.
  void opened();
  // A text message from the client.
  void on_text(std::string_view text, clock::time_point now);
  // A binary message from the client: refused with an error (the protocol is JSON text).
  void on_binary();
  // Whether the server API's disconnect of user (and, unless empty, of one session) covers this
  // connection.
  bool revoked_by(const std::string& user, const std::string& session) const noexcept {
    return who_.user_id == user && (session.empty() || who_.session_id == session);
  }
  // In-band authentication is complete (the session holds the user's slot).
  void on_authenticated(identity who);
  // A frame from the fan-out for this connection.
  void on_event(const frame_ptr& f);
  // About once a second: the private stream's retries.
  void tick(clock::time_point now);
  // Redis confirmed the user's channel again after a reconnect.
  void resubscribed();
  void source_changed(const std::string& source, bool stale, std::int64_t since_us);
  // The server API changed the entitlement record of a user (plan empty) or of a plan (user empty).
  void entitlements_changed(const std::string& user, const std::string& plan);

 private:
  // False when the message is over the client's rate (it is then dropped).
  bool take_message_token(clock::time_point now);
  void handle_subscribe(subscription_request& req);
  void handle_unsubscribe(subscription_request& req);
  // Releases what req names and the connection holds; returns what was released.
  unsubscribe_plan unsubscribe_now(subscription_request& req);
  // Entitlement records (services::entitlement_records): read before the first subscribe and on
  // each change; subscribes and unsubscribes wait while they are read.
  void load_records();
  void records_arrived(std::uint64_t generation, const common::result<entitlement_records>& r);
  // Releases the symbols and topics the connection may no longer hold, with a notice.
  void drop_unentitled();
  void handle_refresh(const refresh_request& req);
  void handle_auth(const auth_message& msg);
  void fail(const std::string& code, std::string_view message);
  // n of the client's symbols are no longer held: they stop counting against its address.
  void release_quota(std::size_t n);
  // The last ticks of symbols, as a snapshot frame (a subscribe without private channels).
  void send_price_snapshot(std::vector<std::string> symbols);
  // Moves what Redis refused from a subscribe's granted lists to its rejected one ("unavailable").
  void refuse_unavailable(subscribe_plan& p, const std::vector<std::string>& refused, bool route_refused);
  // Topics: each one's retained message is read and delivered before its live messages.
  void hold_topic(const std::string& route);
  void read_retained(const std::vector<std::string>& topics);
  void retained_arrived(const std::string& topic, const std::optional<std::string>& payload);
  // False when f waits for (or repeats) its topic's retained message.
  bool pass_topic_message(const frame_ptr& f);
  void release_topic(const std::string& topic);
  // Whether anything this connection receives comes from source.
  bool depends_on(const std::string& source) const;
  void report_stale_sources();
  bool is_follow_only(const std::string& symbol) const;

  // private_feed::host
  void feed_deliver(frame_ptr f) override { out_.deliver(f); }
  void feed_reply(std::string json) override { out_.reply(json, true); }
  void feed_follow(const std::string& symbol, bool follow) override;
  std::function<void(std::function<void()>)> feed_poster() override { return out_.poster(); }
  void feed_filter_prices(std::vector<std::pair<std::string, std::string>>& prices) override;

  session_output& out_;
  frame_sink& sink_;
  worker& worker_;
  services& svc_;
  identity who_;         // fixed at the upgrade or by in-band auth (expiry moves with "refresh")
  bool awaiting_auth_;   // only "auth" and "ping" are taken until it succeeds
  bool opened_ = false;  // counted in the census
  const std::string address_;
  std::size_t quota_held_ = 0;  // symbols counted against the address (given back when released)
  message_rate messages_;       // the client's message rate
  // The user's private stream; created by the first subscribe to a private channel.
  std::unique_ptr<private_feed> feed_;
  // State most connections never need, allocated on first use (idle connections stay small).
  struct extras {
    // Symbols subscribed only to follow a position's price (the client did not ask for their ticks).
    std::vector<std::string> follow_only;
    // Snapshots with prices asked for and not yet rendered, and the symbols whose ticks went out
    // meanwhile (a snapshot must not hand the client an older price than one it already has).
    std::uint32_t price_snapshots_pending = 0;
    std::vector<std::string> ticked;
    // Topics whose retained message is being read (their live messages wait meanwhile), or was
    // just delivered (the same message arriving live is not delivered twice).
    struct topic_hold {
      std::string route;
      std::uint32_t reads = 0;       // retained reads still to be answered
      std::vector<frame_ptr> held;   // live messages that arrived meanwhile
      std::string retained_payload;  // the retained message last delivered ("" = none)
    };
    std::vector<topic_hold> topic_holds;
  };
  // Entitlement records (edges with --entitlement-records, for a signed-in user, from its first
  // subscribe on): the token's claim (what who_.entitled was before the records), the plan the
  // user's record names, and whether they are being read (or failed to be, and are read again).
  // Allocated on first use, so the many connections that never need it stay small.
  struct records_state {
    std::shared_ptr<const entitlements> claimed;
    std::string plan;
    std::uint64_t generation = 0;
    bool loading = false;
    bool failed = false;
    std::vector<subscription_request> deferred;  // while loading
  };
  std::unique_ptr<records_state> records_;
  std::unique_ptr<extras> extras_;
  extras& more() {
    if (!extras_) extras_ = std::make_unique<extras>();
    return *extras_;
  }
};

}  // namespace tickstream::edge
