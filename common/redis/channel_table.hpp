#pragma once
// The pub/sub channels of one Redis subscriber connection, as data: who holds each channel, where
// its SUBSCRIBE or UNSUBSCRIBE stands, which holders still wait for Redis's confirmation, and which
// channels linger after their last holder left. Every operation returns what to do (commands to
// send, holders to tell); redis_client does the I/O on its Redis thread and passes the time in, so
// tests drive the table without sockets or clocks. This is the only reference count of channels:
// the edge's workers are holders here, and the fan-out routes each message to a channel's holders.
//
// Rules kept here (hiredis 0.14 and Redis pub/sub):
// - A SUBSCRIBE is never sent while an UNSUBSCRIBE of the same channel is in flight: hiredis 0.14
//   forgets the channel's callback when the UNSUBSCRIBE reply arrives, so the SUBSCRIBE waits for it.
// - The control channel is subscribed first on every connection and never unsubscribed: hiredis
//   0.14 leaves subscribed mode on the last UNSUBSCRIBE reply and then aborts on a SUBSCRIBE reply
//   still in flight.
// - A holder is told only once Redis has confirmed, and told again after every reconnect (messages
//   published while the connection was down are lost to pub/sub, so a holder may check for a gap).
// - After a reconnect every held or pinned channel is subscribed again; the others are forgotten.
// - A refused SUBSCRIBE fails that channel's holders only; every other channel carries on.
//
// Threading: none; the owner serializes all calls (redis_client: its Redis thread).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tickstream::common {

// Who holds a channel: for the edge, a worker id. A holder holds a given channel at most once.
using holder_id = std::uint64_t;

struct channel_holder {
  holder_id id = 0;
  std::uint64_t tag = 0;   // the holder's own, handed back with its activations (edge: the acquisition's generation)
  bool confirmed = false;  // Redis has confirmed the channel since this holder took it
};

// Tell `holder` that Redis confirmed `channel`.
struct channel_activation {
  std::string channel;
  holder_id holder = 0;
  std::uint64_t tag = 0;
  bool again = false;  // a re-confirmation after a reconnect: the holder was confirmed before
};

// Tell `holder` that Redis refused `channel` (an ACL, say): the holder no longer holds it.
struct channel_refusal {
  std::string channel;
  holder_id holder = 0;
  std::uint64_t tag = 0;
  std::string reason;  // Redis's error
};

// What the caller must do after an operation, in this order: send the commands, then tell the holders.
struct channel_actions {
  std::vector<std::string> subscribe;    // SUBSCRIBE each
  std::vector<std::string> unsubscribe;  // UNSUBSCRIBE each
  std::vector<channel_activation> activations;
  std::vector<channel_refusal> refusals;

  bool empty() const noexcept {
    return subscribe.empty() && unsubscribe.empty() && activations.empty() && refusals.empty();
  }
};

enum class channel_state { idle, subscribing, active, unsubscribing };

// A channel leaving one table for another (Redis Cluster: its slot now lives on another shard):
// its holders, each still knowing whether Redis had confirmed it, and its pin.
struct channel_move {
  std::string channel;
  bool pinned = false;
  std::vector<channel_holder> holders;
};

class channel_table {
 public:
  // Times are milliseconds on any monotonic clock (redis_client: its libuv loop's). linger: how
  // long a channel whose last holder left stays subscribed (0: unsubscribed at once).
  using time = std::chrono::milliseconds;

  channel_table(std::string control_channel, time linger);

  // holder takes channel: subscribes the first holder's channel (once connected); tells the holder
  // at once if Redis already confirmed it, else when it does.
  channel_actions acquire(std::string_view channel, holder_id holder, std::uint64_t tag);
  // holder lets go: the last holder's channel lingers from now, or is unsubscribed at once.
  channel_actions release(std::string_view channel, holder_id holder, time now);
  // channel stays subscribed for the table's whole life, with or without holders (the control
  // channel is pinned from the start).
  channel_actions pin(std::string_view channel);

  // The subscriber connection is up (again): the control channel first, then everything held or pinned.
  channel_actions connected();
  // It went down: nothing is subscribed any more; channels nobody holds are forgotten.
  void disconnected();
  // Redis confirmed a SUBSCRIBE / an UNSUBSCRIBE of channel.
  channel_actions subscribed(std::string_view channel);
  channel_actions unsubscribed(std::string_view channel);
  // Redis refused the SUBSCRIBE of channel: every holder is told and let go (a holder told so may
  // still release it: that is ignored), and the channel is forgotten unless pinned (a pinned one
  // is tried again on the next connection). Nothing else changes: one refusal fails one channel.
  channel_actions refused(std::string_view channel, std::string_view reason);
  // Redis ended channel's subscription by itself (a sharded channel whose slot moved to another
  // node): it is subscribed again at once, and its holders are told again once Redis confirms
  // (with `again`: messages published in between are lost to pub/sub).
  channel_actions dropped(std::string_view channel);

  // Redis Cluster (one table per shard's subscriber connection):
  // Redis answered the SUBSCRIBE of channel with a redirect (MOVED: the slot lives elsewhere): it
  // is idle again, its holders kept and nobody told; the owner moves it with take().
  void bounce(std::string_view channel);
  // Takes an idle channel with a holder or a pin out of the table, to adopt() it in the table of
  // the shard that owns its slot now; nullopt if it is not idle or nobody references it.
  std::optional<channel_move> take(std::string_view channel);
  // A channel taken from another table: subscribed here (once connected); holders Redis had
  // confirmed are told again (`again`) once Redis confirms here, the others for the first time.
  channel_actions adopt(channel_move moved);
  // The channels with a holder or a pin that are idle (subscribed nowhere, nothing in flight),
  // the control channel excluded: after a disconnect, all of them.
  std::vector<std::string> idle_channels() const;

  // Unsubscribes the channels whose linger has run out by now and that nobody took up meanwhile.
  channel_actions expire(time now);
  // When expire() next has something to do (nullopt: nothing lingers).
  std::optional<time> next_expiry() const;

  // Who holds channel right now (empty if nobody, or unknown).
  std::span<const channel_holder> holders(std::string_view channel) const;
  channel_state state(std::string_view channel) const;  // idle if unknown
  bool contains(std::string_view channel) const { return channels_.find(channel) != channels_.end(); }
  bool is_connected() const noexcept { return connected_; }
  // Channels with at least one holder.
  std::size_t held_count() const noexcept { return held_; }
  // Channels with a holder or a pin, the control channel excluded.
  std::size_t referenced_count() const noexcept { return referenced_; }

 private:
  struct entry {
    channel_state state = channel_state::idle;
    bool pinned = false;
    std::vector<channel_holder> holders;
    std::optional<time> idle_since;  // lingering since (no holders, still subscribed)
  };
  struct name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  using map = std::unordered_map<std::string, entry, name_hash, std::equal_to<>>;

  static bool referenced(const entry& e) noexcept { return e.pinned || !e.holders.empty(); }
  map::iterator find_or_add(std::string_view channel);
  // The entry is referenced now, or no longer: keeps referenced_ right (the control channel is not counted).
  void count_reference(const map::iterator& it, bool was_referenced);
  // Sends the SUBSCRIBE of an idle channel if the connection is up.
  void start_subscribe(map::value_type& channel, channel_actions& out);
  // Tells every holder of an entry Redis just confirmed (first time, or again after a reconnect).
  static void activate_all(map::value_type& channel, channel_actions& out);

  const std::string control_;
  const time linger_;
  map channels_;
  // Channels without holders waiting out the linger, oldest first: (name, idle_since). An entry
  // taken up again (or released again later) no longer matches its idle_since and is skipped.
  std::deque<std::pair<std::string, time>> lingering_;
  bool connected_ = false;
  std::size_t held_ = 0;
  std::size_t referenced_ = 0;
};

}  // namespace tickstream::common
