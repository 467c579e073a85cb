#include "ingest/sources/sse_parser.hpp"

#include <charconv>

namespace tickstream::ingest {

void sse_parser::reset() {
  started_ = false;
  after_cr_ = false;
  oversized_ = false;
  line_.clear();
  line_bytes_ = 0;
  data_.clear();
  type_.clear();
  has_data_ = false;
}

void sse_parser::feed(std::string_view bytes, sse_output& out) {
  if (!started_) {
    // A UTF-8 byte order mark may open the stream; wait for three bytes to tell.
    constexpr std::string_view bom = "\xEF\xBB\xBF";
    const auto have = line_.size() + bytes.size();
    std::string head = line_;
    head.append(bytes.substr(0, std::min<std::size_t>(bytes.size(), 3)));
    if (have < 3 && bom.starts_with(head)) {
      line_ = std::move(head);
      return;
    }
    started_ = true;
    std::string pending = std::move(line_);
    line_.clear();
    pending.append(bytes);
    std::string_view all(pending);
    if (all.starts_with(bom)) all.remove_prefix(3);
    return feed(all, out);
  }
  std::size_t i = 0;
  while (i < bytes.size()) {
    if (after_cr_ && bytes[i] == '\n') {  // the LF of a CRLF split across chunks
      after_cr_ = false;
      ++i;
      continue;
    }
    after_cr_ = false;
    const auto end = bytes.find_first_of("\r\n", i);
    const auto piece = bytes.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
    line_bytes_ += piece.size();
    if (!oversized_ && line_bytes_ > max_) {
      oversized_ = true;
      out.problems.push_back({"sse_too_large", "a line longer than " + std::to_string(max_) + " bytes: event dropped"});
    }
    if (!oversized_) line_.append(piece);
    if (end == std::string_view::npos) return;
    if (line_bytes_ == 0) {
      line({}, out);
    } else if (!oversized_) {
      line(line_, out);
    }
    line_.clear();
    line_bytes_ = 0;
    after_cr_ = bytes[end] == '\r';
    i = end + 1;
  }
}

void sse_parser::line(std::string_view l, sse_output& out) {
  if (l.empty()) {
    if (oversized_) {
      oversized_ = false;
      data_.clear();
      type_.clear();
      has_data_ = false;
      return;
    }
    dispatch(out);
    return;
  }
  if (oversized_) return;
  if (l.front() == ':') {
    l.remove_prefix(1);
    if (!l.empty() && l.front() == ' ') l.remove_prefix(1);
    out.comments.emplace_back(l);
    return;
  }
  const auto colon = l.find(':');
  const auto field = l.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = l.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (data_.size() + value.size() + 1 > max_) {
      oversized_ = true;
      out.problems.push_back(
          {"sse_too_large", "an event larger than " + std::to_string(max_) + " bytes: event dropped"});
      return;
    }
    data_.append(value);
    data_.push_back('\n');
    has_data_ = true;
  } else if (field == "event") {
    type_ = value;
  } else if (field == "id") {
    if (value.find('\0') != std::string_view::npos) {
      out.problems.push_back({"sse_bad_id", "an id holding NUL: ignored"});
    } else {
      last_id_ = value;
    }
  } else if (field == "retry") {
    long ms = 0;
    const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
    if (ec != std::errc() || p != value.data() + value.size() || value.empty() || ms < 0) {
      out.problems.push_back({"sse_bad_retry", "retry must be a number of milliseconds: ignored"});
    } else {
      out.retry_ms = ms;
    }
  }
  // Any other field is ignored, as the format says.
}

void sse_parser::dispatch(sse_output& out) {
  if (!has_data_) {
    type_.clear();
    return;
  }
  data_.pop_back();  // the LF after the last data line
  out.events.push_back({last_id_, type_.empty() ? std::string("message") : std::move(type_), std::move(data_)});
  data_.clear();
  type_.clear();
  has_data_ = false;
}

}  // namespace tickstream::ingest
