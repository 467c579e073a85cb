#pragma once
// Command-line flags and environment variables for both binaries, with --help.
//
// Each option is `--name VALUE` (or `--name=VALUE`) and may also come from an environment variable;
// a flag on the command line wins over the environment, which wins over the default. A bad or
// missing value is a start-up configuration error: parse_or_exit() prints which flag and why and
// exits with status 2.

#include <charconv>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/redis_access.hpp"

namespace tickstream::common {

class config_parser {
 public:
  // Parses one value into the bound target; returns an error text ("must be ...") on failure.
  using setter = std::function<std::optional<std::string>(std::string_view)>;
  using renderer = std::function<std::string()>;
  using env_lookup = std::function<const char*(const char*)>;

  config_parser(std::string program, std::string summary);

  void add_string(std::string name, std::string env, std::string& target, std::string help);
  // A value that must never be logged or printed (keys, passwords).
  void add_secret(std::string name, std::string env, std::string& target, std::string help);
  void add_int(std::string name, std::string env, std::int64_t& target, std::int64_t min, std::int64_t max,
               std::string help);
  void add_bool(std::string name, std::string env, bool& target, std::string help);
  // --log-level / TS_LOG_LEVEL: one of debug, info, warn, error.
  void add_log_level(std::string& target);
  // --redis-host, --redis-port, --redis-password (TS_REDIS_*), as every binary takes them.
  void add_redis(std::string& host, std::int64_t& port, std::string& password);
  // --redis-url (sets host, port, password, user and TLS at once), --redis-user, --redis-tls,
  // --redis-tls-ca-file, --redis-tls-cert-file, --redis-tls-key-file, --redis-tls-server-name.
  void add_redis_access(std::string& host, std::int64_t& port, std::string& password, redis_access& access);
  // Any integer type, bounded.
  template <std::integral T>
  void add_count(std::string name, std::string env, T& target, T min, T max, std::string help) {
    setter set = [&target, min, max](std::string_view v) -> std::optional<std::string> {
      auto parsed = parse_bounded(v, static_cast<std::int64_t>(min), static_cast<std::int64_t>(max));
      if (!parsed.first) return parsed.second;
      target = static_cast<T>(*parsed.first);
      return std::nullopt;
    };
    renderer render = [&target] { return std::to_string(target); };
    add_custom(std::move(name), std::move(env), std::move(set), std::move(render), std::move(help));
  }
  // A duration given as an integer count of its own unit (milliseconds for a milliseconds field).
  template <class Rep, class Period>
  void add_duration(std::string name, std::string env, std::chrono::duration<Rep, Period>& target, Rep min, Rep max,
                    std::string help) {
    setter set = [&target, min, max](std::string_view v) -> std::optional<std::string> {
      auto parsed = parse_bounded(v, static_cast<std::int64_t>(min), static_cast<std::int64_t>(max));
      if (!parsed.first) return parsed.second;
      target = std::chrono::duration<Rep, Period>(static_cast<Rep>(*parsed.first));
      return std::nullopt;
    };
    renderer render = [&target] { return std::to_string(target.count()); };
    add_custom(std::move(name), std::move(env), std::move(set), std::move(render), std::move(help));
  }
  // Any other type: the caller supplies parsing and rendering.
  void add_custom(std::string name, std::string env, setter set, renderer render, std::string help);
  // The named option must be given (by flag or environment).
  void require(std::string_view name);

  struct outcome {
    bool help = false;
    bool version = false;  // --version: print the build and exit
    std::optional<std::string> error;
  };
  outcome parse(int argc, const char* const* argv, const env_lookup& env) const;
  // As parse(), with the process environment; prints --help and exits 0, or prints the error and
  // exits 2.
  void parse_or_exit(int argc, const char* const* argv) const;

  std::string help_text() const;
  // An integer in [min, max], or the error text ("must be ...").
  static std::pair<std::optional<std::int64_t>, std::string> parse_bounded(std::string_view v, std::int64_t min,
                                                                           std::int64_t max);
  // name=value for every option, secrets shown as "<redacted>" (or "<unset>").
  std::vector<std::pair<std::string, std::string>> effective() const;

 private:
  struct option {
    std::string name;
    std::string env;
    std::string help;
    setter set;
    renderer render;
    bool secret = false;
    bool is_bool = false;
    bool required = false;
  };
  option& add(option opt);

  std::string program_;
  std::string summary_;
  std::vector<option> options_;
};

// Start-up for a binary: sets the log component and level, then logs the effective configuration
// as one structured line. level must have been validated (add_log_level does).
void start_logging(const config_parser& parser, std::string_view component, const std::string& level);

}  // namespace tickstream::common
