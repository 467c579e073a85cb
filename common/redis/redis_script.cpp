#include "common/redis/redis_script.hpp"

#include <openssl/evp.h>

#include <cassert>

namespace tickstream::common {
namespace {

std::string sha1_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  const int ok = EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha1(), nullptr);
  assert(ok == 1 && size == 20 && "SHA1 is always available");
  (void)ok;
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * size);
  for (unsigned int i = 0; i < size; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xf];
  }
  return out;
}

}  // namespace

redis_script::redis_script(std::string_view name, std::string_view source)
    : name_(name), source_(source), sha1_(sha1_hex(source)) {}

}  // namespace tickstream::common
