#include "edge/protocol/deflate.hpp"

#include <array>
#include <charconv>
#include <new>

#include "edge/protocol/utf8.hpp"

namespace tickstream::edge {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// What an acceptable offer asked for.
struct offer_terms {
  bool no_takeover = false;    // server_no_context_takeover
  bool server_window = false;  // server_max_window_bits (=15): the answer must carry it (§7.1.2.1)
};

// One offer's parameters ("permessage-deflate; a; b=15"): acceptable to us? A parameter given
// twice makes it unacceptable (§7).
bool acceptable(std::string_view offer, offer_terms& terms) {
  terms = {};
  bool first = true;
  unsigned seen = 0;  // a bit per parameter name
  while (!offer.empty()) {
    const auto semi = offer.find(';');
    auto part = trim(offer.substr(0, semi));
    offer = semi == std::string_view::npos ? std::string_view{} : offer.substr(semi + 1);
    if (first) {
      if (part != "permessage-deflate") return false;
      first = false;
      continue;
    }
    const auto eq = part.find('=');
    const auto name = trim(part.substr(0, eq));
    auto value = eq == std::string_view::npos ? std::string_view{} : trim(part.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    constexpr std::array<std::string_view, 4> names{"server_no_context_takeover", "client_no_context_takeover",
                                                    "server_max_window_bits", "client_max_window_bits"};
    for (unsigned i = 0; i < names.size(); ++i) {
      if (name != names[i]) continue;
      if ((seen & (1U << i)) != 0) return false;
      seen |= 1U << i;
    }
    if (name == "server_no_context_takeover" || name == "client_no_context_takeover") {
      if (eq != std::string_view::npos) return false;  // takes no value, not even an empty one
      if (name == "server_no_context_takeover") terms.no_takeover = true;
    } else if (name == "client_max_window_bits") {
      // The client may use a smaller window; we inflate with the largest, which reads any.
      int bits = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), bits);
      if (!value.empty() && (value.front() == '0' || ec != std::errc{} || end != value.data() + value.size() ||
                             bits < 8 || bits > 15)) {  // 8 to 15, without leading zeros (§7.1.2.2)
        return false;
      }
    } else if (name == "server_max_window_bits") {
      // We compress with a 2^15 window; a client asking for less is not served compression.
      if (value != "15") return false;
      terms.server_window = true;
    } else {
      return false;  // an unknown parameter makes the offer unacceptable (§5)
    }
  }
  return !first;
}

}  // namespace

std::optional<deflate_agreement> negotiate_permessage_deflate(std::string_view offers, bool context_takeover) {
  // Offers are comma-separated, in the client's order of preference; take the first we can.
  while (!offers.empty()) {
    const auto comma = offers.find(',');
    const auto offer = trim(offers.substr(0, comma));
    offers = comma == std::string_view::npos ? std::string_view{} : offers.substr(comma + 1);
    offer_terms terms;
    if (!acceptable(offer, terms)) continue;
    const bool alone = terms.no_takeover || !context_takeover;
    std::string response = alone ? "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
                                 : "permessage-deflate; client_no_context_takeover";
    if (terms.server_window) response += "; server_max_window_bits=15";
    return deflate_agreement{std::move(response), alone ? deflate_mode::alone : deflate_mode::shared};
  }
  return std::nullopt;
}

message_deflater::message_deflater(int level, int window_bits, int mem_level) {
  // Raw deflate (negative window bits); by default a 2^15 window and memLevel 8, zlib's own, so
  // ratios are what clients expect.
  if (deflateInit2(&z_, level, Z_DEFLATED, -window_bits, mem_level, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::bad_alloc();
  }
}

message_deflater::~message_deflater() { deflateEnd(&z_); }

void message_deflater::compress_next(std::string_view payload, std::string& out) {
  // An empty message: the one byte RFC 7692 §7.2.3.6 gives (zlib, with nothing to flush again,
  // would write nothing, and an empty body does not inflate).
  if (payload.empty()) {
    out.push_back('\0');
    return;
  }
  const auto start = out.size();
  out.resize(start + deflateBound(&z_, payload.size()) + 8);
  z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(payload.data()));
  z_.avail_in = static_cast<uInt>(payload.size());
  std::size_t written = start;
  for (;;) {
    z_.next_out = reinterpret_cast<Bytef*>(out.data() + written);
    z_.avail_out = static_cast<uInt>(out.size() - written);
    deflate(&z_, Z_SYNC_FLUSH);
    written = out.size() - z_.avail_out;
    if (z_.avail_out != 0) break;  // all of it flushed
    out.resize(out.size() * 2);
  }
  // A sync flush ends with an empty stored block, 00 00 ff ff, which the receiver adds back.
  if (written - start >= 4) written -= 4;
  out.resize(written);
}

std::string compressed_frame(ws_opcode op, std::string_view body) {
  std::string f;
  f.reserve(body.size() + 10);
  append_frame_header(f, op, body.size());
  f[0] = static_cast<char>(f[0] | 0x40);  // RSV1: this message is compressed
  f.append(body);
  return f;
}

message_inflater::message_inflater() { inflateInit2(&z_, -15); }

message_inflater::~message_inflater() { inflateEnd(&z_); }

common::result<std::string> message_inflater::inflate(std::string_view compressed, std::size_t max_bytes) {
  inflateReset(&z_);
  static constexpr std::array<unsigned char, 4> tail{0x00, 0x00, 0xff, 0xff};
  std::string out;
  std::array<char, 16 * 1024> chunk{};
  for (int part = 0; part < 2; ++part) {
    const auto in = part == 0 ? compressed : std::string_view(reinterpret_cast<const char*>(tail.data()), tail.size());
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    while (z_.avail_in > 0) {
      z_.next_out = reinterpret_cast<Bytef*>(chunk.data());
      z_.avail_out = static_cast<uInt>(chunk.size());
      const int rc = ::inflate(&z_, Z_SYNC_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        return common::error{"invalid_deflate", "the message is not valid deflate data"};
      }
      const auto produced = chunk.size() - z_.avail_out;
      if (out.size() + produced > max_bytes) {
        return common::error{"too_big", "the message inflates past the size limit"};
      }
      out.append(chunk.data(), produced);
      if (rc == Z_STREAM_END || (rc == Z_BUF_ERROR && produced == 0)) break;
    }
  }
  return out;
}

common::result<std::string> inflate_client_message(std::string_view compressed, bool text, std::size_t max_bytes) {
  thread_local message_inflater inflater;
  auto m = inflater.inflate(compressed, max_bytes);
  if (m && text && !valid_utf8(m.value())) return common::error{"invalid_utf8", "the inflated text is not UTF-8"};
  return m;
}

}  // namespace tickstream::edge
