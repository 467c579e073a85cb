#pragma once
// Where a replayable broker stream may resume: the id of the last event such that it and every
// event before it are stored. Events are registered in stream order with the number of parts
// (private events) each yields, and their parts complete in any order (a fill of one user can
// take longer than a plain event of another); the cursor only moves over a run of completed
// events, so a crash never leaves it past an event that was not stored. A part that failed holds
// the cursor where it is: the stream is resumed from there (the store de-duplicates what it
// already has). Pure and single-threaded.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace tickstream::ingest {

class event_cursor {
 public:
  explicit event_cursor(std::string committed = {}) : committed_(std::move(committed)) {}

  // Registers the next event of the stream, with the parts that must complete before it counts
  // as stored (0: nothing to store, e.g. another account's event). Returns its ticket.
  std::uint64_t begin(std::string id, int parts);
  // One part of a ticket completed (ok: stored or a duplicate). Returns the new cursor when it
  // moved. Tickets from before the last restart() are ignored.
  std::optional<std::string> complete(std::uint64_t ticket, bool ok);

  // Moves the cursor over what has completed (after begin() of an event with 0 parts); returns
  // the new cursor when it moved.
  std::optional<std::string> settle() { return advance(); }

  // Forgets what is in flight (the stream is read again from committed()).
  void restart();

  const std::string& committed() const noexcept { return committed_; }
  std::size_t in_flight() const noexcept { return pending_.size(); }
  bool failed() const noexcept { return failed_; }  // a part failed since the last restart()

 private:
  struct entry {
    std::string id;
    int remaining;
  };
  std::optional<std::string> advance();

  std::string committed_;
  std::deque<entry> pending_;
  std::uint64_t first_ticket_ = 0;  // the ticket of pending_.front()
  bool failed_ = false;
};

}  // namespace tickstream::ingest
