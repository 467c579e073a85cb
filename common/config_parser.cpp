#include "common/config_parser.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <stdexcept>

#include "common/build_info.hpp"
#include "common/log.hpp"

namespace tickstream::common {

config_parser::config_parser(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

config_parser::option& config_parser::add(option opt) {
  for (const auto& o : options_) {
    if (o.name == opt.name) throw std::logic_error("duplicate option --" + opt.name);
  }
  options_.push_back(std::move(opt));
  return options_.back();
}

void config_parser::add_string(std::string name, std::string env, std::string& target, std::string help) {
  add({std::move(name), std::move(env), std::move(help),
       [&target](std::string_view v) -> std::optional<std::string> {
         target = std::string(v);
         return std::nullopt;
       },
       [&target] { return target; }});
}

void config_parser::add_secret(std::string name, std::string env, std::string& target, std::string help) {
  add_string(std::move(name), std::move(env), target, std::move(help));
  options_.back().secret = true;
  options_.back().render = [&target] { return std::string(target.empty() ? "<unset>" : "<redacted>"); };
}

std::pair<std::optional<std::int64_t>, std::string> config_parser::parse_bounded(std::string_view v, std::int64_t min,
                                                                                 std::int64_t max) {
  std::int64_t parsed = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), parsed);
  if (ec != std::errc{} || end != v.data() + v.size())
    return {std::nullopt, "must be an integer, got '" + std::string(v) + "'"};
  if (parsed < min || parsed > max) {
    return {std::nullopt,
            "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + std::string(v)};
  }
  return {parsed, {}};
}

void config_parser::add_int(std::string name, std::string env, std::int64_t& target, std::int64_t min, std::int64_t max,
                            std::string help) {
  add_count(std::move(name), std::move(env), target, min, max, std::move(help));
}

void config_parser::add_bool(std::string name, std::string env, bool& target, std::string help) {
  auto& o = add({std::move(name), std::move(env), std::move(help),
                 [&target](std::string_view v) -> std::optional<std::string> {
                   if (v == "1" || v == "true" || v == "yes" || v == "on") {
                     target = true;
                   } else if (v == "0" || v == "false" || v == "no" || v == "off") {
                     target = false;
                   } else {
                     return "must be true or false, got '" + std::string(v) + "'";
                   }
                   return std::nullopt;
                 },
                 [&target] { return std::string(target ? "true" : "false"); }});
  o.is_bool = true;
}

void config_parser::add_custom(std::string name, std::string env, setter set, renderer render, std::string help) {
  add({std::move(name), std::move(env), std::move(help), std::move(set), std::move(render)});
}

void config_parser::add_log_level(std::string& target) {
  add_custom(
      "log-level", "TS_LOG_LEVEL",
      [&target](std::string_view v) -> std::optional<std::string> {
        log_level parsed{};
        if (!parse_log_level(v, parsed)) return "must be one of debug, info, warn, error";
        target = std::string(v);
        return std::nullopt;
      },
      [&target] { return target; }, "Log level: debug, info, warn or error.");
}

void config_parser::add_redis(std::string& host, std::int64_t& port, std::string& password) {
  add_string("redis-host", "TS_REDIS_HOST", host, "Redis host name or address.");
  add_int("redis-port", "TS_REDIS_PORT", port, 1, 65535, "Redis TCP port.");
  add_secret("redis-password", "TS_REDIS_PASSWORD", password, "Redis AUTH password (empty: none).");
}

void config_parser::add_redis_access(std::string& host, std::int64_t& port, std::string& password,
                                     redis_access& access) {
  auto url = std::make_shared<std::string>();
  add_custom(
      "redis-url", "TS_REDIS_URL",
      [&host, &port, &password, &access, url](std::string_view v) -> std::optional<std::string> {
        if (auto why = parse_redis_url(v, host, port, password, access)) return why;
        *url = std::string(v);
        return std::nullopt;
      },
      [url] { return redact_redis_url(*url); },
      "Redis as one URL: redis://[[user]:password@]host[:port] or rediss://... for TLS (instead of --redis-host, "
      "--redis-port and --redis-tls; --redis-user and --redis-password apply when it has no user-info); or the master "
      "of a Sentinel deployment: "
      "redis+sentinel://[[user]:password@]sentinel1[:26379],sentinel2[:26379]/<master name>"
      "[?sentinel_user=..&sentinel_password=..] (rediss+sentinel:// for TLS); or a Redis Cluster: "
      "redis+cluster://[[user]:password@]host1[:port1],host2[:port2],... (rediss+cluster:// for TLS).");
  add_secret(
      "redis-sentinel-password", "TS_REDIS_SENTINEL_PASSWORD", access.sentinel_password,
      "AUTH password of the sentinels of a redis+sentinel:// URL (empty: none, or the URL's sentinel_password).");
  add_string("redis-user", "TS_REDIS_USER", access.user, "Redis ACL user for AUTH (empty: the default user).");
  add_bool("redis-tls", "TS_REDIS_TLS", access.tls, "Connect to Redis over TLS.");
  add_string("redis-tls-ca-file", "TS_REDIS_TLS_CA_FILE", access.tls_ca_file,
             "PEM file of the CAs Redis's certificate must chain to (empty: the system's CAs).");
  add_string("redis-tls-cert-file", "TS_REDIS_TLS_CERT_FILE", access.tls_cert_file,
             "Client certificate (PEM) for Redis servers that require one.");
  add_string("redis-tls-key-file", "TS_REDIS_TLS_KEY_FILE", access.tls_key_file,
             "Key of --redis-tls-cert-file (empty: in the same file).");
  add_string("redis-tls-server-name", "TS_REDIS_TLS_SERVER_NAME", access.tls_server_name,
             "Name Redis's certificate must carry, also sent as SNI (empty: the Redis host).");
}

void config_parser::require(std::string_view name) {
  for (auto& o : options_) {
    if (o.name == name) {
      o.required = true;
      return;
    }
  }
  throw std::logic_error("require() of unknown option --" + std::string(name));
}

config_parser::outcome config_parser::parse(int argc, const char* const* argv, const env_lookup& env) const {
  std::set<std::string_view> given;
  for (const auto& o : options_) {
    if (o.env.empty()) continue;
    const char* v = env(o.env.c_str());
    if (v == nullptr) continue;
    if (auto err = o.set(v)) return {false, false, "--" + o.name + " (from $" + o.env + "): " + *err};
    given.insert(o.name);
  }
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return {true, false, std::nullopt};
    if (arg == "--version") return {false, true, std::nullopt};
    if (arg.substr(0, 2) != "--") return {false, false, "unexpected argument '" + std::string(arg) + "' (see --help)"};
    arg.remove_prefix(2);
    std::optional<std::string_view> value;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    const option* found = nullptr;
    for (const auto& o : options_) {
      if (o.name == arg) found = &o;
    }
    if (found == nullptr) return {false, false, "unknown flag --" + std::string(arg) + " (see --help)"};
    if (!value) {
      if (found->is_bool && (i + 1 >= argc || std::string_view(argv[i + 1]).substr(0, 2) == "--")) {
        value = "true";
      } else if (i + 1 >= argc) {
        return {false, false, "--" + found->name + ": missing value"};
      } else {
        value = argv[++i];
      }
    }
    if (auto err = found->set(*value)) return {false, false, "--" + found->name + ": " + *err};
    given.insert(found->name);
  }
  for (const auto& o : options_) {
    if (o.required && !given.contains(o.name)) {
      return {false, false, "--" + o.name + (o.env.empty() ? "" : " (or $" + o.env + ")") + " is required"};
    }
  }
  return {};
}

void config_parser::parse_or_exit(int argc, const char* const* argv) const {
  const auto out = parse(argc, argv, [](const char* name) { return std::getenv(name); });
  if (out.help) {
    std::fputs(help_text().c_str(), stdout);
    std::exit(0);
  }
  if (out.version) {
    std::printf("%s %s (%s)\n", program_.c_str(), build_version, build_revision);
    std::exit(0);
  }
  if (out.error) {
    std::fprintf(stderr, "%s: %s\n", program_.c_str(), out.error->c_str());
    std::exit(2);
  }
}

std::string config_parser::help_text() const {
  std::string out = "Usage: " + program_ + " [--flag value]...\n" + summary_ + "\n\nFlags:\n";
  for (const auto& o : options_) {
    out += "  --" + o.name;
    if (!o.env.empty()) out += "  (env " + o.env + ")";
    out += "\n      " + o.help;
    out += o.required ? " [required]" : " [default: " + o.render() + "]";
    out += "\n";
  }
  out += "  --help\n      Print this text and exit.\n";
  out += "  --version\n      Print the version and source revision and exit.\n";
  return out;
}

std::vector<std::pair<std::string, std::string>> config_parser::effective() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(options_.size());
  for (const auto& o : options_) out.emplace_back(o.name, o.render());
  return out;
}

void start_logging(const config_parser& parser, std::string_view component, const std::string& level) {
  set_log_component(component);
  log_level parsed = log_level::info;
  parse_log_level(level, parsed);
  set_log_level(parsed);
  std::string text;
  for (const auto& [name, value] : parser.effective()) {
    if (!text.empty()) text += ' ';
    text.append(name).append("=").append(value);
  }
  log_info("effective config", {{"config", text}});
}

}  // namespace tickstream::common
