#include "edge/net/proxy_protocol.hpp"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace tickstream::edge {
namespace {

constexpr std::string_view v2_signature{"\r\n\r\n\0\r\nQUIT\n", 12};
constexpr std::size_t max_v2_length = 520;  // addresses plus room for TLVs; more is not a header of ours

common::error bad(std::string message) { return {"bad_proxy_header", std::move(message)}; }

std::string text_of(int family, const void* raw) {
  char out[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(family, raw, out, sizeof out) == nullptr) return {};
  return out;
}

std::optional<common::result<proxy_header>> parse_v1(std::string_view data) {
  const auto end = data.find("\r\n");
  if (end == std::string_view::npos) {
    if (data.size() >= 107) return common::result<proxy_header>(bad("a v1 header ends within 107 bytes"));
    return std::nullopt;
  }
  // Longer is refused whole as it is when split (the first 107 bytes then hold no CRLF).
  if (end + 2 > 107) return common::result<proxy_header>(bad("a v1 header ends within 107 bytes"));
  const auto line = data.substr(0, end);
  proxy_header h;
  h.size = end + 2;
  // PROXY TCP4|TCP6 <src> <dst> <sport> <dport>, or PROXY UNKNOWN ...
  std::array<std::string_view, 6> parts{};
  std::size_t n = 0, pos = 0;
  while (pos <= line.size() && n < parts.size()) {
    const auto sp = line.find(' ', pos);
    parts[n++] = line.substr(pos, sp == std::string_view::npos ? std::string_view::npos : sp - pos);
    if (sp == std::string_view::npos) break;
    pos = sp + 1;
  }
  if (n >= 2 && parts[1] == "UNKNOWN") return common::result<proxy_header>(h);
  if (n != 6 || (parts[1] != "TCP4" && parts[1] != "TCP6"))
    return common::result<proxy_header>(bad("malformed v1 header"));
  unsigned char raw[16];
  const int family = parts[1] == "TCP4" ? AF_INET : AF_INET6;
  if (inet_pton(family, std::string(parts[2]).c_str(), raw) != 1) {
    return common::result<proxy_header>(bad("a v1 header's source address does not parse"));
  }
  h.client_address = text_of(family, raw);
  return common::result<proxy_header>(h);
}

std::optional<common::result<proxy_header>> parse_v2(std::string_view data) {
  if (data.size() < 16) return std::nullopt;
  const auto ver_cmd = static_cast<std::uint8_t>(data[12]);
  const auto fam = static_cast<std::uint8_t>(data[13]);
  const auto len =
      static_cast<std::size_t>((static_cast<std::uint8_t>(data[14]) << 8) | static_cast<std::uint8_t>(data[15]));
  if ((ver_cmd >> 4) != 2) return common::result<proxy_header>(bad("not version 2"));
  if (len > max_v2_length) return common::result<proxy_header>(bad("a v2 header longer than 520 bytes"));
  if (data.size() < 16 + len) return std::nullopt;
  proxy_header h;
  h.size = 16 + len;
  const auto cmd = ver_cmd & 0x0f;
  if (cmd == 0) return common::result<proxy_header>(h);  // LOCAL: the balancer itself (a health check)
  if (cmd != 1) return common::result<proxy_header>(bad("unknown v2 command"));
  const char* addr = data.data() + 16;
  if (fam == 0x11 || fam == 0x12) {  // TCP or UDP over IPv4: src, dst (4 bytes each), ports
    if (len < 12) return common::result<proxy_header>(bad("a v2 IPv4 header is too short"));
    h.client_address = text_of(AF_INET, addr);
  } else if (fam == 0x21 || fam == 0x22) {  // over IPv6: 16 bytes each, ports
    if (len < 36) return common::result<proxy_header>(bad("a v2 IPv6 header is too short"));
    h.client_address = text_of(AF_INET6, addr);
  }
  // UNSPEC or UNIX: no address to use; the TCP peer stands.
  return common::result<proxy_header>(h);
}

}  // namespace

std::optional<common::result<proxy_header>> parse_proxy_header(std::string_view data) {
  const auto v2_prefix = std::min(data.size(), v2_signature.size());
  if (data.substr(0, v2_prefix) == v2_signature.substr(0, v2_prefix)) {
    if (data.size() < v2_signature.size()) return std::nullopt;
    return parse_v2(data);
  }
  constexpr std::string_view v1_prefix = "PROXY ";
  const auto n = std::min(data.size(), v1_prefix.size());
  if (data.substr(0, n) != v1_prefix.substr(0, n)) {
    return common::result<proxy_header>(bad("the connection does not start with a PROXY protocol header"));
  }
  if (data.size() < v1_prefix.size()) return std::nullopt;
  return parse_v1(data);
}

bool address_in(std::string_view address, const std::vector<std::string>& ranges) {
  unsigned char a[16];
  const bool v4 = inet_pton(AF_INET, std::string(address).c_str(), a) == 1;
  if (!v4 && inet_pton(AF_INET6, std::string(address).c_str(), a) != 1) return false;
  const int bits_total = v4 ? 32 : 128;
  for (const auto& range : ranges) {
    const auto slash = range.find('/');
    const auto base = range.substr(0, slash);
    int bits = bits_total;
    if (slash != std::string::npos) {
      const auto tail = std::string_view(range).substr(slash + 1);
      const auto [end, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), bits);
      if (ec != std::errc{} || end != tail.data() + tail.size() || bits < 0 || bits > bits_total) continue;
    }
    unsigned char b[16];
    if (inet_pton(v4 ? AF_INET : AF_INET6, base.c_str(), b) != 1) continue;
    bool match = true;
    for (int i = 0; i < bits && match; ++i) {
      const auto mask = static_cast<unsigned char>(0x80 >> (i % 8));
      match = (a[i / 8] & mask) == (b[i / 8] & mask);
    }
    if (match) return true;
  }
  return false;
}

std::string forwarded_client(std::string_view peer, std::string_view x_forwarded_for,
                             const std::vector<std::string>& trusted) {
  if (trusted.empty() || !address_in(peer, trusted) || x_forwarded_for.empty()) return std::string(peer);
  // Right to left: each hop appended the address it saw; stop at the first that is not ours.
  std::string_view rest = x_forwarded_for;
  while (!rest.empty()) {
    const auto comma = rest.rfind(',');
    auto entry = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    unsigned char tmp[16];
    std::string e(entry);
    const bool is_address = inet_pton(AF_INET, e.c_str(), tmp) == 1 || inet_pton(AF_INET6, e.c_str(), tmp) == 1;
    if (!is_address) return std::string(peer);  // a malformed hop: trust nothing beyond the proxy
    if (!address_in(e, trusted)) return e;
    if (comma == std::string_view::npos) return e;
    rest = rest.substr(0, comma);
  }
  return std::string(peer);
}

}  // namespace tickstream::edge
