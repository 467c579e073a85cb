#include "common/redis/resp.hpp"

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include <new>

namespace tickstream::common {

void append_resp_array_header(std::string& out, std::size_t count) {
  out += '*';
  out += std::to_string(count);
  out += "\r\n";
}

void append_resp_bulk(std::string& out, std::string_view s) {
  out += '$';
  out += std::to_string(s.size());
  out += "\r\n";
  out += s;
  out += "\r\n";
}

std::string format_redis_command(const std::vector<std::string>& args) {
  std::size_t size = 16;
  for (const auto& a : args) size += a.size() + 16;
  std::string out;
  out.reserve(size);
  append_resp_array_header(out, args.size());
  for (const auto& a : args) append_resp_bulk(out, a);
  return out;
}

std::string encode_redis_command(std::initializer_list<std::string_view> args) {
  std::size_t size = 16;
  for (const auto& a : args) size += a.size() + 16;
  std::string out;
  out.reserve(size);
  append_resp_array_header(out, args.size());
  for (const auto& a : args) append_resp_bulk(out, a);
  return out;
}

namespace {

const redisReply* as_reply(const void* p) { return static_cast<const redisReply*>(p); }

redis_reply::kind kind_of(const redisReply* r) {
  if (r == nullptr) return redis_reply::kind::nil;
  switch (r->type) {
    case REDIS_REPLY_INTEGER: return redis_reply::kind::integer;
    case REDIS_REPLY_STRING: return redis_reply::kind::string;
    case REDIS_REPLY_STATUS: return redis_reply::kind::status;
    case REDIS_REPLY_ERROR: return redis_reply::kind::error;
    case REDIS_REPLY_ARRAY: return redis_reply::kind::array;
    default: return redis_reply::kind::nil;
  }
}

std::string_view text_of(const redisReply* r) {
  if (r == nullptr) return {};
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR) {
    return {r->str, r->len};
  }
  return {};
}

redis_reply convert(const redisReply* r) {
  redis_reply out;
  out.type = kind_of(r);
  switch (out.type) {
    case redis_reply::kind::integer: out.integer = r->integer; break;
    case redis_reply::kind::string:
    case redis_reply::kind::status:
    case redis_reply::kind::error: out.str.assign(r->str, r->len); break;
    case redis_reply::kind::array:
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    case redis_reply::kind::nil: break;
  }
  return out;
}

const redisReply* element(const void* p, std::size_t i) {
  const auto* r = as_reply(p);
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY || i >= r->elements) return nullptr;
  return r->element[i];
}

}  // namespace

void resp_value::free_reply::operator()(void* r) const noexcept { freeReplyObject(r); }

redis_reply::kind resp_value::type() const noexcept { return kind_of(as_reply(p_.get())); }
std::string_view resp_value::str() const noexcept { return text_of(as_reply(p_.get())); }
long long resp_value::integer() const noexcept {
  const auto* r = as_reply(p_.get());
  return r != nullptr && r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
}
std::size_t resp_value::size() const noexcept {
  const auto* r = as_reply(p_.get());
  return r != nullptr && r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
}
redis_reply::kind resp_value::element_type(std::size_t i) const noexcept { return kind_of(element(p_.get(), i)); }
std::string_view resp_value::element_str(std::size_t i) const noexcept { return text_of(element(p_.get(), i)); }
redis_reply resp_value::copy() const { return convert(as_reply(p_.get())); }

resp_reader::resp_reader() : reader_(redisReaderCreate()) {
  if (reader_ == nullptr) throw std::bad_alloc();
}

resp_reader::~resp_reader() { redisReaderFree(static_cast<redisReader*>(reader_)); }

void resp_reader::feed(std::string_view bytes) {
  // Fails only on a reader already in error, which next() reports.
  (void)redisReaderFeed(static_cast<redisReader*>(reader_), bytes.data(), bytes.size());
}

result<resp_value> resp_reader::next() {
  auto* r = static_cast<redisReader*>(reader_);
  void* reply = nullptr;
  if (redisReaderGetReply(r, &reply) != REDIS_OK) {
    return error{"protocol_error", std::string("unreadable reply from Redis: ") + r->errstr};
  }
  return resp_value(reply);
}

}  // namespace tickstream::common
