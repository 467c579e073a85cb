#pragma once
// One Lua script of the tier: its text and the SHA1 that EVALSHA names it by. The scripts live in
// common/redis/scripts/*.lua, each with a header saying its KEYS, ARGV and reply, and are embedded
// at build time (the generated common/redis/lua_scripts.hpp has one accessor per file); run one
// with redis_client::eval().

#include <string>
#include <string_view>

namespace tickstream::common {

class redis_script {
 public:
  // source must outlive the script (the embedded texts are static). The SHA1 is computed here.
  redis_script(std::string_view name, std::string_view source);

  std::string_view name() const noexcept { return name_; }
  std::string_view source() const noexcept { return source_; }
  // Lower-case hex, as SCRIPT LOAD answers.
  const std::string& sha1() const noexcept { return sha1_; }

 private:
  std::string_view name_;
  std::string_view source_;
  std::string sha1_;
};

}  // namespace tickstream::common
