#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "common/config_parser.hpp"

using tickstream::common::config_parser;
namespace common = tickstream::common;

namespace {

struct fixture {
  std::string host = "127.0.0.1";
  std::int64_t port = 6379;
  std::string password;
  bool loop = false;
  std::string input;
  config_parser parser{"prog", "A test program."};
  std::map<std::string, std::string> env;

  fixture() {
    parser.add_string("host", "T_HOST", host, "Host.");
    parser.add_int("port", "T_PORT", port, 1, 65535, "Port.");
    parser.add_secret("password", "T_PASSWORD", password, "Password.");
    parser.add_bool("loop", "T_LOOP", loop, "Loop.");
    parser.add_string("input", "T_INPUT", input, "Input.");
    parser.require("input");
  }

  config_parser::outcome parse(std::vector<const char*> args) {
    args.insert(args.begin(), "prog");
    return parser.parse(static_cast<int>(args.size()), args.data(), [this](const char* name) -> const char* {
      const auto it = env.find(name);
      return it == env.end() ? nullptr : it->second.c_str();
    });
  }
};

}  // namespace

TEST_CASE("flags set values, in both --flag value and --flag=value forms", "[config]") {
  fixture f;
  const auto out = f.parse({"--host", "redis", "--port=6380", "--loop", "--input", "x.jsonl"});
  REQUIRE_FALSE(out.error);
  CHECK(f.host == "redis");
  CHECK(f.port == 6380);
  CHECK(f.loop);
  CHECK(f.input == "x.jsonl");
}

TEST_CASE("environment variables set values and flags override them", "[config]") {
  fixture f;
  f.env = {{"T_HOST", "from-env"}, {"T_PORT", "7000"}, {"T_INPUT", "-"}};
  REQUIRE_FALSE(f.parse({"--port", "7001"}).error);
  CHECK(f.host == "from-env");
  CHECK(f.port == 7001);
}

TEST_CASE("bad values name the flag and the reason", "[config]") {
  fixture f;
  CHECK(f.parse({"--input", "x", "--port", "abc"}).error == "--port: must be an integer, got 'abc'");
  CHECK(f.parse({"--input", "x", "--port", "70000"}).error == "--port: must be between 1 and 65535, got 70000");
  CHECK(f.parse({"--input", "x", "--loop", "maybe"}).error == "--loop: must be true or false, got 'maybe'");
  CHECK(f.parse({"--input", "x", "--colour", "red"}).error == "unknown flag --colour (see --help)");
  CHECK(f.parse({"--input"}).error == "--input: missing value");
  CHECK(f.parse({"stray"}).error == "unexpected argument 'stray' (see --help)");
  CHECK(f.parse({}).error == "--input (or $T_INPUT) is required");
  f.env = {{"T_PORT", "0"}};
  CHECK(f.parse({"--input", "x"}).error == "--port (from $T_PORT): must be between 1 and 65535, got 0");
}

TEST_CASE("--help is recognised and lists every flag with its default", "[config]") {
  fixture f;
  CHECK(f.parse({"--help"}).help);
  const auto text = f.parser.help_text();
  CHECK(text.find("--port  (env T_PORT)") != std::string::npos);
  CHECK(text.find("[default: 6379]") != std::string::npos);
  CHECK(text.find("[required]") != std::string::npos);
}

TEST_CASE("the effective config redacts secrets", "[config]") {
  fixture f;
  REQUIRE_FALSE(f.parse({"--input", "x", "--password", "hunter2"}).error);
  CHECK(f.password == "hunter2");
  bool seen = false;
  for (const auto& [name, value] : f.parser.effective()) {
    CHECK(value.find("hunter2") == std::string::npos);
    if (name == "password") {
      CHECK(value == "<redacted>");
      seen = true;
    }
  }
  CHECK(seen);
  CHECK(f.parser.help_text().find("hunter2") == std::string::npos);
}

TEST_CASE("the version flag is recognised wherever it appears", "[config]") {
  std::int64_t port = 1;
  tickstream::common::config_parser p("prog", "test");
  p.add_int("port", "TS_X_PORT", port, 1, 65535, "a port");
  const char* argv[] = {"prog", "--port", "80", "--version"};
  const auto out = p.parse(4, argv, [](const char*) -> const char* { return nullptr; });
  CHECK(out.version);
  CHECK_FALSE(out.help);
  CHECK_FALSE(out.error);
  CHECK(p.help_text().find("--version") != std::string::npos);
}

TEST_CASE("a Redis URL sets host, port, TLS and, when it has user-info, user and password", "[config]") {
  std::string host;
  std::int64_t port = 0;
  std::string password;
  common::redis_access access;
  CHECK_FALSE(common::parse_redis_url("rediss://edge:p%40ss@redis.internal:6380", host, port, password, access));
  CHECK(host == "redis.internal");
  CHECK(port == 6380);
  CHECK(access.user == "edge");
  CHECK(password == "p@ss");
  CHECK(access.tls);
  CHECK_FALSE(common::parse_redis_url("redis://secret@10.0.0.5", host, port, password, access));
  CHECK(host == "10.0.0.5");
  CHECK(port == 6379);
  CHECK(access.user.empty());
  CHECK(password == "secret");
  CHECK_FALSE(access.tls);
  CHECK_FALSE(common::parse_redis_url("redis://[::1]:7000/0", host, port, password, access));
  CHECK(host == "::1");
  CHECK(port == 7000);
  // Without user-info, the user and password of their own flags (a secret in the environment) stay.
  password = "from-the-flag";
  access.user = "flag-user";
  CHECK_FALSE(common::parse_redis_url("redis://10.0.0.6:6390", host, port, password, access));
  CHECK(host == "10.0.0.6");
  CHECK(port == 6390);
  CHECK(password == "from-the-flag");
  CHECK(access.user == "flag-user");
  CHECK(common::parse_redis_url("redis://x:", host, port, password, access) == "must give a port from 1 to 65535");
  CHECK(common::parse_redis_url("http://x", host, port, password, access) ==
        "must start with redis://, rediss:// (TLS), redis+sentinel:// or rediss+sentinel://");
  CHECK(common::parse_redis_url("redis://x:99999", host, port, password, access) == "must give a port from 1 to 65535");
  CHECK(common::parse_redis_url("redis://x/3", host, port, password, access).has_value());
  CHECK(common::parse_redis_url("redis://:%4@x", host, port, password, access).has_value());
  CHECK(common::parse_redis_url("redis://", host, port, password, access) == "must name a host");
  CHECK(common::redact_redis_url("rediss://edge:secret@h:1") == "rediss://edge:***@h:1");
  CHECK(common::redact_redis_url("redis://secret@h") == "redis://***@h");
  CHECK(common::redact_redis_url("redis://h:1") == "redis://h:1");
  CHECK(access.sentinels.empty());
}

TEST_CASE("a Sentinel URL names the sentinels, the master and the passwords of both", "[config]") {
  std::string host = "kept";
  std::int64_t port = 1;
  std::string password;
  common::redis_access access;
  CHECK_FALSE(common::parse_redis_url(
      "redis+sentinel://edge:p%40ss@s1.internal:26380,s2.internal,[::1]:5000/my%2Dmaster?sentinel_password=s%26p", host,
      port, password, access));
  REQUIRE(access.sentinels.size() == 3);
  CHECK(access.sentinels[0] == common::redis_endpoint{"s1.internal", 26380});
  CHECK(access.sentinels[1] == common::redis_endpoint{"s2.internal", 26379});
  CHECK(access.sentinels[2] == common::redis_endpoint{"::1", 5000});
  CHECK(access.sentinel_master == "my-master");
  CHECK(access.user == "edge");
  CHECK(password == "p@ss");
  CHECK(access.sentinel_password == "s&p");
  CHECK(access.sentinel_user.empty());
  CHECK_FALSE(access.tls);
  CHECK(host == "kept");  // the sentinels say where the master is
  CHECK(port == 1);

  CHECK_FALSE(common::parse_redis_url("rediss+sentinel://10.0.0.1/m?sentinel_user=s&sentinel_password=x", host, port,
                                      password, access));
  CHECK(access.tls);
  CHECK(access.sentinels == std::vector<common::redis_endpoint>{{"10.0.0.1", 26379}});
  CHECK(access.sentinel_user == "s");
  CHECK(password == "p@ss");  // no user-info: --redis-password's stays
  CHECK(access.user == "edge");

  // A plain URL afterwards is not Sentinel any more.
  CHECK_FALSE(common::parse_redis_url("redis://h", host, port, password, access));
  CHECK(access.sentinels.empty());

  CHECK(common::parse_redis_url("redis+sentinel://s1:26379", host, port, password, access) ==
        "must name the master after the sentinels: redis+sentinel://host:26379,host2:26379/<master>");
  CHECK(common::parse_redis_url("redis+sentinel://s1:26379/", host, port, password, access).has_value());
  CHECK(common::parse_redis_url("redis+sentinel://s1:0/m", host, port, password, access) ==
        "sentinel must give a port from 1 to 65535");
  CHECK(common::parse_redis_url("redis+sentinel://s1,,s2/m", host, port, password, access) ==
        "sentinel must name a host");
  CHECK(common::parse_redis_url("redis+sentinel://s1:/m", host, port, password, access) ==
        "sentinel must give a port from 1 to 65535");
  CHECK(common::parse_redis_url("redis+sentinel://s1/m/0", host, port, password, access).has_value());
  CHECK(common::parse_redis_url("redis+sentinel://s1/m?db=2", host, port, password, access) ==
        "must use only the parameters sentinel_user and sentinel_password, not 'db'");
  CHECK(common::redact_redis_url("redis+sentinel://u:secret@s1,s2/m?sentinel_password=x&sentinel_user=a") ==
        "redis+sentinel://u:***@s1,s2/m?sentinel_password=***&sentinel_user=a");
  CHECK(common::redact_redis_url("redis+sentinel://s1/m?sentinel_password=x") ==
        "redis+sentinel://s1/m?sentinel_password=***");
}

TEST_CASE("a cluster URL from the environment keeps the password and user of their own variables", "[config]") {
  // As the chart sets them: the URL in a ConfigMap, the password from a Secret.
  std::string host;
  std::int64_t port = 6379;
  std::string password;
  common::redis_access access;
  config_parser parser{"prog", "A test program."};
  parser.add_redis(host, port, password);
  parser.add_redis_access(host, port, password, access);
  const std::map<std::string, std::string> env = {{"TS_REDIS_URL", "rediss+cluster://r0:6379,r1:6379,r2:6379"},
                                                  {"TS_REDIS_PASSWORD", "from-secret"},
                                                  {"TS_REDIS_USER", "tickstream"}};
  const char* argv[] = {"prog"};
  const auto out = parser.parse(1, argv, [&env](const char* name) -> const char* {
    const auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  REQUIRE_FALSE(out.error);
  CHECK(password == "from-secret");
  CHECK(access.user == "tickstream");
  CHECK(access.tls);
  CHECK(access.cluster_nodes.size() == 3);
  CHECK(host == "r0");
}
