// The accounts registry: parsing and resolving credentials, with lookups the test provides.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>

#include "ingest/sources/accounts_registry.hpp"
#include "tests/support/temp_file.hpp"

using namespace tickstream;
using namespace tickstream::ingest;

TEST_CASE("the accounts registry lists users and where their credentials are, never the credentials", "[accounts]") {
  const auto parsed = parse_accounts(
      "# user id   key              secret\n"
      "trader-1   env:KEY_1   file:/run/secrets/one   # the first\n"
      "\n"
      "  trader.2\tenv:KEY_2 env:SECRET_2 wss://broker.example/stream\n");
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == 2);
  CHECK(parsed.value()[0].user_id == "trader-1");
  CHECK(parsed.value()[0].secret_ref == "file:/run/secrets/one");
  CHECK(parsed.value()[1].user_id == "trader.2");
  CHECK(parsed.value()[1].line == 4);
  CHECK(parsed.value()[0].url.empty());
  CHECK(parsed.value()[1].url == "wss://broker.example/stream");

  const auto error_of = [](std::string_view text) {
    auto r = parse_accounts(text);
    REQUIRE_FALSE(r.ok());
    return r.err().code + ": " + r.err().message;
  };
  CHECK(error_of("u1 env:K\n") ==
        "invalid_accounts: line 1: expected 3 or 4 fields (user id, key, secret, stream URL) or 2 (user id, "
        "account:<id>), found 2");
  CHECK(error_of("u1 env:K env:S http://x\n") ==
        "invalid_accounts: line 1: the stream URL must start with ws:// or wss://");
  CHECK(error_of("u1 env:K env:S\nu1 env:K2 env:S2\n") == "invalid_accounts: line 2: user 'u1' is listed twice");
  CHECK(error_of("a/b env:K env:S\n") ==
        "invalid_accounts: line 1: the user id must be 1-64 characters from A-Z a-z 0-9 _ . : -");
  CHECK(error_of("u1 PKXXXX secretvalue\n") ==
        "invalid_accounts: line 1: credentials must be env:NAME or file:PATH, not given inline");
  CHECK(error_of("u1 env: env:S\n") ==
        "invalid_accounts: line 1: credentials must be env:NAME or file:PATH, not given inline");
}

TEST_CASE("credentials come from the environment or files, and a missing one names the reference only", "[accounts]") {
  const std::map<std::string, std::string> env_vars{{"KEY_1", "PK1"}, {"EMPTY", ""}};
  const std::map<std::string, std::string> files{{"/s/one", "sekret-1\n"}};
  const lookup env = [&](const std::string& n) -> std::optional<std::string> {
    const auto it = env_vars.find(n);
    return it == env_vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  const lookup file = [&](const std::string& n) -> std::optional<std::string> {
    const auto it = files.find(n);
    return it == files.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  auto ok = resolve_account({"trader-1", "env:KEY_1", "file:/s/one", "", 1, {}}, env, file);
  REQUIRE(ok.ok());
  CHECK(ok->key == "PK1");
  CHECK(ok->secret == "sekret-1");  // without the file's newline
  auto missing = resolve_account({"trader-2", "env:KEY_1", "env:NOPE", "", 7, {}}, env, file);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.err().message == "line 7 (user 'trader-2'): env:NOPE is not set or empty");
  CHECK(missing.err().message.find("PK1") == std::string::npos);
  CHECK_FALSE(resolve_account({"t", "env:EMPTY", "file:/s/one", "", 1, {}}, env, file).ok());
  CHECK_FALSE(resolve_account({"t", "env:KEY_1", "file:/s/none", "", 1, {}}, env, file).ok());
}

TEST_CASE("loading a registry leaves out an account whose credentials are missing, keeps the others", "[accounts]") {
  const test::temp_file secret("tickstream-accounts-secret");
  std::ofstream(secret.path()) << "s3cret\n";
  const test::temp_file reg("tickstream-accounts");
  std::ofstream(reg.path()) << "good file:" << secret.path() << " file:" << secret.path() << "\n"
                            << "bad env:TICKSTREAM_TEST_SURELY_UNSET file:" << secret.path() << "\n";
  auto loaded = load_accounts(reg.path());
  REQUIRE(loaded.ok());
  REQUIRE(loaded->accounts.size() == 1);
  CHECK(loaded->accounts[0].user_id == "good");
  CHECK(loaded->accounts[0].secret == "s3cret");
  REQUIRE(loaded->skipped.size() == 1);
  CHECK(loaded->skipped[0].code == "missing_credentials");
  CHECK_FALSE(load_accounts("/nonexistent/accounts").ok());
}

TEST_CASE("a Broker API account is a user and the broker's account id, with no credentials of its own", "[accounts]") {
  const auto parsed = parse_accounts(
      "alice account:529248ad-c4cc-4a50-bea4-6bfd2953f83a\n"
      "bob   env:K env:S\n");
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == 2);
  CHECK(parsed.value()[0].broker_account == "529248ad-c4cc-4a50-bea4-6bfd2953f83a");
  CHECK(parsed.value()[1].broker_account.empty());
  const lookup none = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  const auto alice = resolve_account(parsed.value()[0], none, none);
  REQUIRE(alice.ok());
  CHECK(alice->broker_account == "529248ad-c4cc-4a50-bea4-6bfd2953f83a");
  CHECK(alice->key.empty());
  auto twice = parse_accounts("a account:0a\nb account:0a\n");
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.err().message == "line 2: account '0a' is listed twice");
  auto bad = parse_accounts("a account:not/a-uuid\n");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().message == "line 1: a Broker API account id must be the account's UUID");
}

TEST_CASE("the registry as a hash: each entry stands alone, a bad one is left out by its user id", "[accounts]") {
  const lookup env = [](const std::string& n) -> std::optional<std::string> {
    if (n == "K1") return std::string("PK1");
    if (n == "S1") return std::string("SK1");
    return std::nullopt;
  };
  const lookup none = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  const auto loaded = load_accounts_hash({{"alice", "env:K1 env:S1 wss://broker.example/stream"},
                                          {"bob", "account:529248ad-c4cc-4a50-bea4-6bfd2953f83a"},
                                          {"carol", "PKINLINE sekret"},
                                          {"dave", "env:K1 env:MISSING"},
                                          {"eve", "env:K1\nmallory env:K1 env:S1"},
                                          {"a/b", "env:K1 env:S1"}},
                                         env, none);
  REQUIRE(loaded.accounts.size() == 2);
  CHECK(loaded.accounts[0].user_id == "alice");
  CHECK(loaded.accounts[0].key == "PK1");
  CHECK(loaded.accounts[0].url == "wss://broker.example/stream");
  CHECK(loaded.accounts[1].broker_account == "529248ad-c4cc-4a50-bea4-6bfd2953f83a");
  REQUIRE(loaded.skipped.size() == 4);
  CHECK(loaded.skipped[0].message ==
        "user 'carol': line 1: credentials must be env:NAME or file:PATH, not given inline");
  CHECK(loaded.skipped[1].message == "line 1 (user 'dave'): env:MISSING is not set or empty");
  CHECK(loaded.skipped[2].message == "user 'eve': not one line of fields");
  CHECK(loaded.skipped[3].message.starts_with("user 'a/b': line 1: the user id"));
  for (const auto& e : loaded.skipped) CHECK(e.message.find("sekret") == std::string::npos);
}
