#pragma once
// Structured logging: one logfmt line per call on stderr, written with a single write(2) so lines
// from different threads never interleave. No locks, no allocation beyond the line itself.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

namespace tickstream::common {

enum class log_level { debug = 0, info = 1, warn = 2, error = 3 };

// One key=value pair. Values are rendered to text at the call site.
struct log_field {
  std::string_view key;
  std::string value;

  log_field(std::string_view k, std::string_view v) : key(k), value(v) {}
  log_field(std::string_view k, const std::string& v) : key(k), value(v) {}
  log_field(std::string_view k, const char* v) : key(k), value(v) {}
  template <class N>
  requires std::is_arithmetic_v<N> log_field(std::string_view k, N v) : key(k), value(render(v)) {}

 private:
  template <class N>
  static std::string render(N v) {
    if constexpr (std::is_same_v<N, bool>) {
      return v ? "true" : "false";
    } else {
      return std::to_string(v);
    }
  }
};

// Process-wide settings; call before starting threads.
void set_log_level(log_level level) noexcept;
void set_log_component(std::string_view component);
bool parse_log_level(std::string_view text, log_level& out) noexcept;
bool log_enabled(log_level level) noexcept;

void log(log_level level, std::string_view msg, std::initializer_list<log_field> fields = {});

inline void log_debug(std::string_view msg, std::initializer_list<log_field> f = {}) {
  if (log_enabled(log_level::debug)) log(log_level::debug, msg, f);
}
inline void log_info(std::string_view msg, std::initializer_list<log_field> f = {}) { log(log_level::info, msg, f); }
inline void log_warn(std::string_view msg, std::initializer_list<log_field> f = {}) { log(log_level::warn, msg, f); }
inline void log_error(std::string_view msg, std::initializer_list<log_field> f = {}) { log(log_level::error, msg, f); }

// At most max_len bytes of text, cut at a character boundary, with "..." when cut. For logging
// excerpts of untrusted input.
std::string excerpt(std::string_view text, std::size_t max_len = 120);

}  // namespace tickstream::common
