#pragma once
// Reads a JSONL capture. Each line is either
//   - a normalized event (which carries its original receive time, "recv_us"), or
//   - a raw upstream message as a source adapter received it:
//     {"recv_us":1795185000064264,"source":"finnhub","raw":"{\"type\":\"trade\",...}"}
//     which replay feeds through that source's normalizer, as live traffic would be.
// Pure: no I/O beyond the stream it is given, so tests drive it with strings.

#include <cstddef>
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <variant>

#include "common/event.hpp"
#include "common/result.hpp"

namespace tickstream::ingest {

class capture_reader {
 public:
  // Lines longer than this are reported as "line_too_long" and skipped without being buffered.
  static constexpr std::size_t max_line_bytes = 64 * 1024;

  struct raw_message {
    std::string source;  // which normalizer reads it: "finnhub", "alpaca"
    std::int64_t recv_us = 0;
    std::string text;
  };
  using record = std::variant<common::event, raw_message>;

  struct item {
    std::size_t line_no = 0;  // 1-based
    common::result<record> event;
    std::string text;  // the line itself when it could not be read (for the dead-letter stream)
  };

  explicit capture_reader(std::istream& in) : in_(in) {}

  // The next non-blank line, decoded; nullopt at end of input. Blank lines and lines starting
  // with '#' are skipped.
  std::optional<item> next();

 private:
  std::istream& in_;
  std::size_t line_no_ = 0;
};

}  // namespace tickstream::ingest
