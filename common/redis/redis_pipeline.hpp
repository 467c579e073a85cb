#pragma once
// One Redis connection's protocol, as data: the commands written and the reply each one waits
// for, in order, and what every reply or push read off the wire means. The I/O shell writes
// output() to the socket and feeds what it reads; next() turns the bytes into events: the reply to
// a command, a published message (classic or sharded), a subscription confirmed, refused or ended
// by the server. Times are passed in, so tests drive it with bytes and numbers alone.
//
// Rules kept here:
// - Replies come back in the order commands were written (RESP2 pipelining); pushes (message,
//   smessage, a server-side sunsubscribe) come in between and are never matched to a command.
// - An error reply fails the one command it answers: a refused SUBSCRIBE is a `refused` event for
//   its channel, and the connection carries on.
// - A command past its deadline is answered `timed out` at once (expire()); its reply, when it
//   comes, is dropped, so the replies after it still reach their own commands.
// - Anything that is not RESP, or a reply nobody waits for, is a protocol error: the connection
//   must be dropped (nothing after it can be matched any more).
//
// Threading: none; the owner serializes all calls.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/redis/resp.hpp"
#include "common/result.hpp"

namespace tickstream::common {

// What a written command's reply means to the owner.
enum class redis_slot : std::uint8_t {
  command,       // a caller's command: its reply is a `reply` event with the caller's token
  subscribe,     // SUBSCRIBE <channel> (one channel per command)
  unsubscribe,   // UNSUBSCRIBE <channel>
  ssubscribe,    // SSUBSCRIBE <channel>
  sunsubscribe,  // SUNSUBSCRIBE <channel>
  ping,          // PING: a `pong` event
  auth,          // AUTH: `authenticated` or `auth_refused`
  quiet,         // housekeeping (SCRIPT LOAD, CLIENT SETNAME): only an error is reported, as a reply with token 0
};

struct redis_event {
  enum class kind {
    reply,          // a command's reply (errors included): token, value
    message,        // a message published on channel (sharded: an smessage): channel, payload
    subscribed,     // Redis confirmed the (S)SUBSCRIBE of channel
    unsubscribed,   // Redis confirmed our (S)UNSUBSCRIBE of channel
    refused,        // Redis refused the (S)SUBSCRIBE of channel: text is its error
    dropped,        // Redis ended the sharded subscription of channel by itself (its slot moved)
    pong,           // a PING came back
    authenticated,  // AUTH accepted
    auth_refused,   // AUTH refused: text is the error
  };
  kind type = kind::reply;
  bool sharded = false;  // message, subscribed, unsubscribed, refused: a sharded channel
  std::uint64_t token = 0;
  // message: its channel and payload, views into value (valid as long as the event; no copy).
  std::string_view channel;
  std::string_view payload;
  std::string name;       // subscribed, unsubscribed, refused, dropped: the channel
  std::string_view text;  // refused, auth_refused, a quiet command's error: Redis's error text
  resp_value value;
};

class redis_pipeline {
 public:
  using time = std::chrono::milliseconds;

  // subscriber: the connection is (or will be) in subscribed mode, where arrays that start with
  // "message", "smessage", "subscribe"... are pub/sub frames. On a command connection every array
  // is a reply.
  explicit redis_pipeline(bool subscriber) : subscriber_(subscriber) {}

  // Queues one whole encoded command for writing and expects its reply as `slot`. channel: the
  // channel of a (un)subscription. deadline: when a `command` gives up waiting (nullopt: never);
  // deadlines are expected to grow in the order commands are written (one timeout per connection).
  void send(std::string_view formatted, redis_slot slot, std::uint64_t token = 0, std::string channel = {},
            std::optional<time> deadline = std::nullopt);
  // The bytes to write next; the owner takes them (swap or clear) once handed to the socket.
  std::string& output() noexcept { return out_; }

  // Bytes read from the connection, in any split.
  void feed(std::string_view bytes) { reader_->feed(bytes); }
  // The next event: empty when more bytes are needed; an error means the connection must go.
  result<std::optional<redis_event>> next();

  // The tokens of the commands whose deadline has passed by now, oldest first; each is answered
  // by the owner, and its reply is dropped when it comes.
  std::vector<std::uint64_t> expire(time now);
  // The earliest deadline still running (nullopt: none).
  std::optional<time> next_deadline() const;
  // Replies still expected (timed-out commands included).
  std::size_t outstanding() const noexcept { return slots_.size(); }

  // The connection is gone: the tokens of the commands that got no reply and did not time out,
  // in the order they were written, so the owner can send them again. Everything else is reset.
  std::vector<std::uint64_t> reset();

 private:
  struct slot {
    redis_slot kind = redis_slot::command;
    bool abandoned = false;  // timed out: the reply is dropped
    std::uint64_t token = 0;
    std::string channel;
    std::optional<time> deadline;
  };

  // The reply v answers the slot at the front.
  result<std::optional<redis_event>> answer(resp_value v);
  // A subscribed-mode frame (an array whose first element names its kind); nullopt if v is not one.
  std::optional<result<std::optional<redis_event>>> push(resp_value& v);

  const bool subscriber_;
  std::optional<resp_reader> reader_{std::in_place};
  std::string out_;
  std::deque<slot> slots_;
  std::size_t expired_ = 0;  // slots at the front already checked by expire()
};

}  // namespace tickstream::common
