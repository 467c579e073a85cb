#pragma once
// Reads a JSONL capture: one normalized event per line, each with its original receive time
// ("recv_us"). Pure: no I/O beyond the stream it is given, so tests drive it with strings.

#include <cstddef>
#include <cstdint>
#include <istream>
#include <optional>
#include <string>

#include "common/event.hpp"
#include "common/result.hpp"

namespace tickstream::ingest {

class capture_reader {
 public:
  // Lines longer than this are reported as "line_too_long" and skipped without being buffered.
  static constexpr std::size_t max_line_bytes = 64 * 1024;

  struct item {
    std::size_t line_no = 0;                   // 1-based
    common::result<common::event> event;
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
