#pragma once
// RESP (the Redis protocol, version 2) on both sides of the wire, with no I/O: commands encoded as
// they are written, and replies parsed from bytes in whatever pieces the socket delivers them.
// Parsing is hiredis's redisReader (the part of hiredis the tier keeps: sound, and independent of
// hiredis's event-loop API); no hiredis type appears outside resp.cpp.
//
// Threading: none; each reader belongs to one connection.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace tickstream::common {

// One reply, copied out of the parser: what command callers receive.
struct redis_reply {
  enum class kind { nil, integer, string, status, error, array };
  kind type = kind::nil;
  long long integer = 0;
  std::string str;
  std::vector<redis_reply> elements;
};

// RESP encoding of one command, as written on the wire.
std::string format_redis_command(const std::vector<std::string>& args);
// The same from views, with no copy of the arguments first.
std::string encode_redis_command(std::initializer_list<std::string_view> args);
// The pieces of an encoding: "*<count>\r\n" and "$<len>\r\n<s>\r\n".
void append_resp_array_header(std::string& out, std::size_t count);
void append_resp_bulk(std::string& out, std::string_view s);

// One parsed reply, kept as the parser built it so that pub/sub messages are routed on views into
// it without a copy of their payload.
class resp_value {
 public:
  resp_value() = default;
  redis_reply::kind type() const noexcept;
  // A string, status or error's text ({} for other kinds).
  std::string_view str() const noexcept;
  long long integer() const noexcept;
  // An array's elements (0 for other kinds).
  std::size_t size() const noexcept;
  // Element i's kind and text (nil and {} when out of range or not a string).
  redis_reply::kind element_type(std::size_t i) const noexcept;
  std::string_view element_str(std::size_t i) const noexcept;
  // The whole reply, copied.
  redis_reply copy() const;
  explicit operator bool() const noexcept { return p_ != nullptr; }

 private:
  friend class resp_reader;
  struct free_reply {
    void operator()(void* r) const noexcept;
  };
  explicit resp_value(void* r) : p_(r) {}
  std::unique_ptr<void, free_reply> p_;
};

class resp_reader {
 public:
  resp_reader();
  ~resp_reader();
  resp_reader(const resp_reader&) = delete;
  resp_reader& operator=(const resp_reader&) = delete;

  // Takes bytes read from the connection, in any split.
  void feed(std::string_view bytes);
  // The next complete reply; an empty value when more bytes are needed. An error ("protocol_error")
  // means the stream is not RESP: the connection cannot be trusted any more and must be dropped.
  result<resp_value> next();

 private:
  void* reader_;
};

}  // namespace tickstream::common
