// RESP handling: hiredis's reply reader (redisReader, the parser both Redis connections use) on
// arbitrary bytes, and the project's command encoder (common::format_redis_command). The
// conversion of replies into common::redis_reply is internal to redis_client.cpp, so what it
// relies on is checked here instead: every reply has a known type, strings have their length,
// arrays their elements.
//
// Byte 0 picks where the input is split; the rest is what a Redis server sent. Checked:
//   - the replies (and whether the stream is refused) are the same read whole or in two pieces;
//   - every reply, written back as RESP, reads back to the same reply;
//   - the input cut at '\0' bytes, as a command's arguments, encodes to RESP that the reader
//     reads back as an array of exactly those bulk strings.
// Note: hiredis here is Debian's build, not instrumented, so libFuzzer's coverage guidance sees
// only this harness's side of it; ASan still checks every byte of each reply the harness reads.
#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/redis/resp.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace tickstream;

namespace {

struct reader_deleter {
  void operator()(redisReader* r) const { redisReaderFree(r); }
};
using reader_ptr = std::unique_ptr<redisReader, reader_deleter>;

// A reply tree written out unambiguously (type, lengths, bytes), reading every byte of it.
void describe(const redisReply* r, std::string& out, int depth = 0) {
  FUZZ_CHECK(r != nullptr && depth < 16);
  out += std::to_string(r->type) + ":";
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      FUZZ_CHECK(r->str != nullptr);
      out += std::to_string(r->len) + ":";
      out.append(r->str, r->len);
      FUZZ_CHECK(r->str[r->len] == '\0');  // hiredis terminates every string
      break;
    case REDIS_REPLY_INTEGER: out += std::to_string(r->integer); break;
    case REDIS_REPLY_NIL: break;
    case REDIS_REPLY_ARRAY:
      out += std::to_string(r->elements) + "[";
      FUZZ_CHECK(r->elements == 0 || r->element != nullptr);
      for (std::size_t i = 0; i < r->elements; ++i) describe(r->element[i], out, depth + 1);
      out += "]";
      break;
    default: FUZZ_CHECK(!"a reply type hiredis 0.14 does not have");
  }
}

// RESP2 for a reply tree (a nil is written as a nil bulk string).
void encode(const redisReply* r, std::string& out) {
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out += "$" + std::to_string(r->len) + "\r\n";
      out.append(r->str, r->len);
      out += "\r\n";
      break;
    case REDIS_REPLY_STATUS: out += "+" + std::string(r->str, r->len) + "\r\n"; break;
    case REDIS_REPLY_ERROR: out += "-" + std::string(r->str, r->len) + "\r\n"; break;
    case REDIS_REPLY_INTEGER: out += ":" + std::to_string(r->integer) + "\r\n"; break;
    case REDIS_REPLY_NIL: out += "$-1\r\n"; break;
    case REDIS_REPLY_ARRAY:
      out += "*" + std::to_string(r->elements) + "\r\n";
      for (std::size_t i = 0; i < r->elements; ++i) encode(r->element[i], out);
      break;
  }
}

struct reading {
  std::vector<std::string> replies;  // described
  std::string resp;                  // the replies written back
  bool refused = false;
};

// Reads replies from the pieces fed one after the other, as socket reads would deliver them.
reading read_all(const std::vector<std::string_view>& pieces) {
  reading out;
  reader_ptr reader(redisReaderCreate());
  FUZZ_CHECK(reader != nullptr);
  for (const auto piece : pieces) {
    if (redisReaderFeed(reader.get(), piece.data(), piece.size()) != REDIS_OK) {
      out.refused = true;
      return out;
    }
    for (int i = 0; i < 4096; ++i) {
      void* reply = nullptr;
      if (redisReaderGetReply(reader.get(), &reply) != REDIS_OK) {
        out.refused = true;
        return out;
      }
      if (reply == nullptr) break;  // needs more bytes
      const auto* r = static_cast<const redisReply*>(reply);
      out.replies.emplace_back();
      describe(r, out.replies.back());
      encode(r, out.resp);
      freeReplyObject(reply);
    }
  }
  return out;
}

// A multi-bulk count this large makes hiredis 0.14 allocate count pointers at once (it has no
// limit of its own; 1.x has maxelements): Redis itself never sends one, and the allocation
// would only measure the machine. Such inputs are skipped.
bool huge_array_count(std::string_view in) {
  for (std::size_t at = in.find('*'); at != std::string_view::npos; at = in.find('*', at + 1)) {
    std::size_t digits = 0;
    std::uint64_t n = 0;
    for (std::size_t i = at + 1; i < in.size() && std::isdigit(static_cast<unsigned char>(in[i])) && digits < 20; ++i) {
      n = n * 10 + static_cast<std::uint64_t>(in[i] - '0');
      ++digits;
    }
    if (digits > 7 || n > 1'000'000) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto in = fuzz::as_view(data + 1, size - 1);

  // The command encoder: arguments separated by '\0' in the input, read back by hiredis.
  std::vector<std::string> args;
  for (std::size_t from = 0; args.size() < 32;) {
    const auto nul = in.find('\0', from);
    args.emplace_back(in.substr(from, nul == std::string_view::npos ? std::string_view::npos : nul - from));
    if (nul == std::string_view::npos) break;
    from = nul + 1;
  }
  const auto command = common::format_redis_command(args);
  const auto cmd = read_all({command});
  FUZZ_CHECK(!cmd.refused && cmd.replies.size() == 1);
  std::string expected = std::to_string(REDIS_REPLY_ARRAY) + ":" + std::to_string(args.size()) + "[";
  for (const auto& a : args) expected += std::to_string(REDIS_REPLY_STRING) + ":" + std::to_string(a.size()) + ":" + a;
  FUZZ_CHECK(cmd.replies[0] == expected + "]");
  FUZZ_CHECK(cmd.resp == command);

  if (huge_array_count(in)) return 0;
  const auto whole = read_all({in});
  const std::size_t cut = in.empty() ? 0 : data[0] % (in.size() + 1);
  const auto split = read_all({in.substr(0, cut), in.substr(cut)});
  FUZZ_CHECK(split.refused == whole.refused);
  FUZZ_CHECK(split.replies == whole.replies);
  if (!whole.replies.empty()) {
    const auto again = read_all({whole.resp});
    FUZZ_CHECK(!again.refused);
    FUZZ_CHECK(again.replies == whole.replies);
  }
  return 0;
}
