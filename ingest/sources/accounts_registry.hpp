#pragma once
// The broker accounts one ingest process streams: a text file, one account a line,
//
//     # user id     API key id            API secret                          [stream URL]
//     trader-1      env:ALPACA_KEY_1      file:/run/secrets/alpaca-secret-1
//     trader-2      account:529248ad-c4cc-4a50-bea4-6bfd2953f83a
//
// fields separated by blanks (the optional fourth, the account's trading stream, defaults to
// --alpaca-trading-url), '#' starting a comment. A line of two fields, the second
// `account:<id>`, is a Broker API customer account: its events come from the broker's one trade
// events stream (--broker-events-url, with the broker's own credentials), so it has none of its own. Credentials are
// never in the file itself, only where to find them: `env:NAME` (an environment variable) or `file:PATH` (a file's
// content, without its trailing newline). Parsing is pure; resolving takes the lookups as functions, so both are tested
// without touching the environment. Credentials are never logged.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace tickstream::ingest {

struct account_entry {
  std::string user_id;     // whose account it is (a valid user id, unique in the file)
  std::string key_ref;     // env:NAME or file:PATH
  std::string secret_ref;  // env:NAME or file:PATH
  std::string url;         // its trading stream (empty: the default)
  int line = 0;
  std::string broker_account;  // a Broker API account id (then key_ref and secret_ref are empty)
};

struct account_credentials {
  std::string user_id;
  std::string key;
  std::string secret;
  std::string url;             // empty: the default
  std::string broker_account;  // a Broker API account: no key or secret
};

// Parses the registry. Error "invalid_accounts" names the line and why (a missing field, a bad
// user id, a duplicate, a reference that is neither env: nor file:).
common::result<std::vector<account_entry>> parse_accounts(std::string_view text);

// Looks a name up: an environment variable, or a file's content (nullopt: not there).
using lookup = std::function<std::optional<std::string>(const std::string&)>;

// The credentials of an entry. Error "missing_credentials" names the line and the reference (never
// its value).
common::result<account_credentials> resolve_account(const account_entry& entry, const lookup& env, const lookup& file);

// The registry at path with the process environment and the file system. An unreadable or
// malformed file is an error (bad start-up configuration); an account whose credentials cannot be
// found is left out and named in `skipped`, so that one account never stops the others.
struct loaded_accounts {
  std::vector<account_credentials> accounts;
  std::vector<common::error> skipped;
};
common::result<loaded_accounts> load_accounts(const std::string& path);

// The registry as a Redis hash (--accounts-hash): field = user id, value = the rest of a file
// line ("env:KEY file:/run/secrets/s [wss://...]" or "account:<id>"). Each entry stands alone:
// one that does not parse or whose credentials cannot be found is left out and named in
// `skipped` (by its user id, never a value), and the others are loaded.
loaded_accounts load_accounts_hash(const std::vector<std::pair<std::string, std::string>>& fields, const lookup& env,
                                   const lookup& file);
// The same with the process environment and the file system.
loaded_accounts load_accounts_hash(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace tickstream::ingest
