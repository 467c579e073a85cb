#pragma once
// Server-Sent Events (the WHATWG HTML "event stream" format) decoded from bytes as they arrive,
// split anywhere: lines end with CRLF, LF or CR (a CR at the end of one chunk and an LF at the
// start of the next are one line end); a blank line dispatches the event; "data:" lines join
// with LF; "id:" sets the last event id (kept across events, as the format says); "event:" the
// type; "retry:" the reconnection delay; a line starting with ':' is a comment (the Alpaca Broker
// API's heartbeats and its "you are reading too slowly, dropped N messages" notice); other fields
// are ignored. A leading byte order mark is skipped.
//
// Bad input is reported as a problem and skipped, never ending the stream: an event or a line
// past max_event_bytes is dropped whole (everything up to its blank line) and the events after
// it are delivered; a "retry:" that is not a number and an "id:" holding NUL are ignored. Pure:
// bytes in, events out.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace tickstream::ingest {

struct sse_event {
  std::string id;    // the last event id when it was dispatched ("" if none was ever set)
  std::string type;  // "message" unless an "event:" line said otherwise
  std::string data;  // its data lines joined with LF
};

struct sse_output {
  std::vector<sse_event> events;
  std::vector<std::string> comments;    // without the leading ':' (and one space after it)
  std::vector<common::error> problems;  // "sse_too_large", "sse_bad_retry", "sse_bad_id"
  std::optional<long> retry_ms;         // the last valid "retry:" seen
};

class sse_parser {
 public:
  // 1 MiB: a trade event is ~2 KiB; one far past that is not an event we can use.
  static constexpr std::size_t default_max_event_bytes = 1 << 20;

  explicit sse_parser(std::size_t max_event_bytes = default_max_event_bytes) : max_(max_event_bytes) {}

  // Decodes the next bytes of the stream into out (appended).
  void feed(std::string_view bytes, sse_output& out);
  // Starts a new stream (a reconnect): a partial line or event is dropped; the last event id is
  // kept, as an EventSource keeps it.
  void reset();

  const std::string& last_event_id() const noexcept { return last_id_; }

 private:
  void line(std::string_view l, sse_output& out);
  void dispatch(sse_output& out);

  std::size_t max_;
  bool started_ = false;        // the BOM check is done
  bool after_cr_ = false;       // the previous byte ended a line with CR
  bool oversized_ = false;      // dropping until the event's blank line
  std::string line_;            // the line being read
  std::size_t line_bytes_ = 0;  // its length, dropped bytes included
  std::string data_;
  std::string type_;
  bool has_data_ = false;
  std::string last_id_;
};

}  // namespace tickstream::ingest
