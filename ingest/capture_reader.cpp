#include "ingest/capture_reader.hpp"

#include "common/event_codec.hpp"

namespace tickstream::ingest {

std::optional<capture_reader::item> capture_reader::next() {
  std::string line;
  for (;;) {
    line.clear();
    bool too_long = false;
    bool got_any = false;
    // Read one line without ever holding more than max_line_bytes of it.
    for (int c = in_.get(); c != std::char_traits<char>::eof(); c = in_.get()) {
      got_any = true;
      if (c == '\n') break;
      if (line.size() < max_line_bytes) {
        line.push_back(static_cast<char>(c));
      } else {
        too_long = true;
      }
    }
    if (!got_any) return std::nullopt;
    ++line_no_;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (too_long) {
      return item{line_no_, common::error{"line_too_long", "line is longer than " +
                                                               std::to_string(max_line_bytes) + " bytes"}};
    }
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    return item{line_no_, common::decode_event(line)};
  }
}

}  // namespace tickstream::ingest
