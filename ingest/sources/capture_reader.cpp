#include "ingest/sources/capture_reader.hpp"

#include <rapidjson/document.h>

#include "common/event_codec.hpp"
#include "common/json_reader.hpp"

namespace tickstream::ingest {

constexpr std::size_t max_raw_bytes = capture_reader::max_line_bytes;

namespace {

common::result<capture_reader::record> decode_raw(const std::string& line) {
  rapidjson::Document doc;
  if (auto err = common::parse_json(doc, line)) return std::move(*err);
  if (!doc.IsObject()) return common::error{"invalid_json", "a capture line must be a JSON object"};
  common::json_reader r(doc, "invalid_capture");
  capture_reader::raw_message m;
  if (const auto src = r.string("source", true, 32)) m.source = std::string(*src);
  if (const auto recv = r.integer("recv_us", true, 946'684'800'000'000LL, 4'102'444'800'000'000LL)) m.recv_us = *recv;
  if (const auto raw = r.string("raw", true, max_raw_bytes)) m.text = std::string(*raw);
  if (!r.ok()) return *r.failure();
  return capture_reader::record{std::move(m)};
}

}  // namespace

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
      return item{line_no_,
                  common::error{"line_too_long", "line is longer than " + std::to_string(max_line_bytes) + " bytes"},
                  std::move(line)};
    }
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    // A normalized event never has a "raw" key (no field value can hold a quote unescaped).
    if (line.find("\"raw\":") == std::string::npos) {
      auto ev = common::decode_event(line);
      if (!ev) return item{line_no_, std::move(ev).err(), std::move(line)};
      return item{line_no_, record{std::move(ev).value()}, {}};
    }
    auto raw = decode_raw(line);
    if (!raw) return item{line_no_, std::move(raw).err(), std::move(line)};
    return item{line_no_, std::move(raw), {}};
  }
}

}  // namespace tickstream::ingest
