#include "common/redis/cluster_slots.hpp"

#include <algorithm>
#include <charconv>

namespace tickstream::common {

namespace {

// CRC16, polynomial 0x1021, initial value 0, no reflection (the XMODEM variant Redis Cluster uses).
std::uint16_t crc16(std::string_view data) noexcept {
  std::uint16_t crc = 0;
  for (const char ch : data) {
    crc = static_cast<std::uint16_t>(crc ^ (static_cast<std::uint16_t>(static_cast<unsigned char>(ch)) << 8));
    for (int bit = 0; bit < 8; ++bit) {
      crc =
          (crc & 0x8000) != 0 ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021) : static_cast<std::uint16_t>(crc << 1);
    }
  }
  return crc;
}

std::optional<cluster_node> parse_node(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  int port = 0;
  const auto digits = text.substr(colon + 1);
  const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (r.ec != std::errc{} || r.ptr != digits.data() + digits.size() || port < 1 || port > 65535) return std::nullopt;
  return cluster_node{std::string(text.substr(0, colon)), port};
}

}  // namespace

std::uint16_t key_slot(std::string_view key) noexcept {
  if (const auto open = key.find('{'); open != std::string_view::npos) {
    const auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
  }
  return static_cast<std::uint16_t>(crc16(key) % cluster_slot_count);
}

std::optional<cluster_redirect> parse_cluster_redirect(std::string_view text) {
  cluster_redirect out;
  if (text.starts_with("MOVED ")) {
    text.remove_prefix(6);
  } else if (text.starts_with("ASK ")) {
    text.remove_prefix(4);
    out.ask = true;
  } else {
    return std::nullopt;
  }
  const auto space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  unsigned slot = 0;
  const auto r = std::from_chars(text.data(), text.data() + space, slot);
  if (r.ec != std::errc{} || r.ptr != text.data() + space || slot >= cluster_slot_count) return std::nullopt;
  auto node = parse_node(text.substr(space + 1));
  if (!node) return std::nullopt;
  out.slot = static_cast<std::uint16_t>(slot);
  out.node = std::move(*node);
  return out;
}

std::optional<std::string_view> routing_key(std::span<const std::string> args) noexcept {
  if (args.size() < 2) return std::nullopt;
  const auto is = [&](std::string_view name) {
    const auto& a = args[0];
    return a.size() == name.size() && std::equal(a.begin(), a.end(), name.begin(), [](char x, char y) {
             return (x >= 'a' && x <= 'z' ? static_cast<char>(x - 32) : x) == y;
           });
  };
  for (const std::string_view keyless :
       {"PING",     "TIME",      "INFO",     "CLUSTER", "SCRIPT", "AUTH", "ASKING",   "ECHO",
        "CLIENT",   "CONFIG",    "COMMAND",  "HELLO",   "DBSIZE", "ROLE", "FLUSHALL", "FLUSHDB",
        "READONLY", "READWRITE", "FUNCTION", "WAIT",    "MULTI",  "EXEC"}) {
    if (is(keyless)) return std::nullopt;
  }
  if (is("EVAL") || is("EVALSHA") || is("EVAL_RO") || is("EVALSHA_RO") || is("FCALL") || is("FCALL_RO")) {
    if (args.size() < 4 || args[2].empty() || args[2] == "0") return std::nullopt;
    return args[3];
  }
  return args[1];
}

std::string sharded_script_text(std::string_view source) {
  std::string out(source);
  for (const std::string_view quoted : {"'PUBLISH'", "\"PUBLISH\""}) {
    for (auto at = out.find(quoted); at != std::string::npos; at = out.find(quoted, at + quoted.size() + 1)) {
      // Only a command name: the call's first argument, right after "call(" or "pcall(".
      const auto before = std::string_view(out).substr(0, at);
      auto trimmed = before;
      while (!trimmed.empty() && trimmed.back() == ' ') trimmed.remove_suffix(1);
      if (trimmed.ends_with("call(")) out.insert(at + 1, "S");
    }
  }
  return out;
}

result<cluster_slot_map> cluster_slot_map::from_cluster_slots(const redis_reply& reply) {
  using kind = redis_reply::kind;
  const auto bad = [](std::string why) { return error{"bad_topology", std::move(why)}; };
  if (reply.type != kind::array) return bad("CLUSTER SLOTS did not answer with an array");
  cluster_slot_map map;
  std::vector<bool> covered(cluster_slot_count, false);
  for (const auto& range : reply.elements) {
    if (range.type != kind::array || range.elements.size() < 3 || range.elements[0].type != kind::integer ||
        range.elements[1].type != kind::integer || range.elements[2].type != kind::array ||
        range.elements[2].elements.size() < 2 || range.elements[2].elements[1].type != kind::integer) {
      return bad("a slot range is not [start, end, [host, port, ...], ...]");
    }
    const auto start = range.elements[0].integer;
    const auto end = range.elements[1].integer;
    if (start < 0 || end < start || end >= static_cast<long long>(cluster_slot_count)) {
      return bad("a slot range is out of bounds");
    }
    const auto& master = range.elements[2].elements;
    cluster_node node{master[0].str, static_cast<int>(master[1].integer)};
    if (node.host.empty() || node.port < 1 || node.port > 65535) return bad("a master without a usable address");
    auto at = std::find(map.masters_.begin(), map.masters_.end(), node);
    if (at == map.masters_.end()) at = map.masters_.insert(map.masters_.end(), std::move(node));
    const auto index = static_cast<std::uint16_t>(at - map.masters_.begin());
    for (auto s = start; s <= end; ++s) {
      map.owner_[static_cast<std::size_t>(s)] = index;
      covered[static_cast<std::size_t>(s)] = true;
    }
  }
  if (std::find(covered.begin(), covered.end(), false) != covered.end()) return bad("some slots have no master");
  return map;
}

std::optional<cluster_node> channel_destination(const cluster_slot_map& map, std::string_view channel,
                                                const cluster_node& here, bool here_retired, bool here_connected) {
  const auto& owner = map.owner(key_slot(channel));
  if (!here_retired && owner == here && !here_connected) return std::nullopt;
  return owner;
}

void cluster_slot_map::move(std::uint16_t slot, const cluster_node& node) {
  auto at = std::find(masters_.begin(), masters_.end(), node);
  if (at == masters_.end()) at = masters_.insert(masters_.end(), node);
  owner_[slot % cluster_slot_count] = static_cast<std::uint16_t>(at - masters_.begin());
}

}  // namespace tickstream::common
