#include "ingest/sources/accounts_registry.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/event_codec.hpp"
#include "common/log.hpp"

namespace tickstream::ingest {
namespace {

bool is_ref(std::string_view r) {
  return (r.starts_with("env:") || r.starts_with("file:")) && r.find(':') + 1 < r.size();
}

common::error bad_line(int line, const std::string& why) {
  return {"invalid_accounts", "line " + std::to_string(line) + ": " + why};
}

}  // namespace

common::result<std::vector<account_entry>> parse_accounts(std::string_view text) {
  std::vector<account_entry> out;
  int line_no = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(start, end - start));
    start = end + 1;
    ++line_no;
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(std::move(w));
    if (f.empty()) continue;
    if (f.size() == 2 && f[1].starts_with("account:")) {
      const auto id = f[1].substr(8);
      if (id.empty() || id.size() > 64 || id.find_first_not_of("0123456789abcdefABCDEF-") != std::string::npos) {
        return bad_line(line_no, "a Broker API account id must be the account's UUID");
      }
      if (!common::is_valid_user_id(f[0]))
        return bad_line(line_no, "the user id must be 1-64 characters from A-Z a-z 0-9 _ . : -");
      for (const auto& e : out) {
        if (e.user_id == f[0]) return bad_line(line_no, "user '" + f[0] + "' is listed twice");
        if (e.broker_account == id) return bad_line(line_no, "account '" + id + "' is listed twice");
      }
      account_entry e;
      e.user_id = f[0];
      e.broker_account = id;
      e.line = line_no;
      out.push_back(std::move(e));
      continue;
    }
    if (f.size() != 3 && f.size() != 4) {
      return bad_line(line_no,
                      "expected 3 or 4 fields (user id, key, secret, stream URL) or 2 (user id, account:<id>), found " +
                          std::to_string(f.size()));
    }
    if (f.size() == 4 && !f[3].starts_with("ws://") && !f[3].starts_with("wss://")) {
      return bad_line(line_no, "the stream URL must start with ws:// or wss://");
    }
    if (!common::is_valid_user_id(f[0]))
      return bad_line(line_no, "the user id must be 1-64 characters from A-Z a-z 0-9 _ . : -");
    if (std::any_of(out.begin(), out.end(), [&](const account_entry& e) { return e.user_id == f[0]; })) {
      return bad_line(line_no, "user '" + f[0] + "' is listed twice");
    }
    for (std::size_t i = 1; i < 3; ++i) {
      if (!is_ref(f[i])) return bad_line(line_no, "credentials must be env:NAME or file:PATH, not given inline");
    }
    out.push_back({f[0], f[1], f[2], f.size() == 4 ? f[3] : std::string(), line_no, {}});
  }
  return out;
}

common::result<account_credentials> resolve_account(const account_entry& e, const lookup& env, const lookup& file) {
  account_credentials c{e.user_id, {}, {}, e.url, e.broker_account};
  if (!e.broker_account.empty()) return c;
  for (auto [ref, into] : {std::pair{&e.key_ref, &c.key}, std::pair{&e.secret_ref, &c.secret}}) {
    const bool from_env = ref->starts_with("env:");
    const std::string name = ref->substr(ref->find(':') + 1);
    auto value = from_env ? env(name) : file(name);
    if (value) {
      while (!value->empty() && (value->back() == '\n' || value->back() == '\r')) value->pop_back();
    }
    if (!value || value->empty()) {
      return common::error{"missing_credentials", "line " + std::to_string(e.line) + " (user '" + e.user_id +
                                                      "'): " + *ref + " is not set or empty"};
    }
    *into = std::move(*value);
  }
  return c;
}

namespace {

std::optional<std::string> read_whole_file(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<std::string> from_environment(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v == nullptr ? std::nullopt : std::optional<std::string>(v);
}

}  // namespace

loaded_accounts load_accounts_hash(const std::vector<std::pair<std::string, std::string>>& fields, const lookup& env,
                                   const lookup& file) {
  loaded_accounts out;
  for (const auto& [user, value] : fields) {
    if (value.find('\n') != std::string::npos || value.find('#') != std::string::npos ||
        user.find_first_of(" \t\n#") != std::string::npos) {
      out.skipped.push_back({"invalid_accounts", "user '" + common::excerpt(user, 64) + "': not one line of fields"});
      continue;
    }
    std::string line = user;
    line += ' ';
    line += value;
    auto entries = parse_accounts(line);
    if (!entries || entries->size() != 1) {
      out.skipped.push_back({"invalid_accounts", "user '" + common::excerpt(user, 64) + "': " +
                                                     (entries ? std::string("no fields") : entries.err().message)});
      continue;
    }
    auto c = resolve_account(entries->front(), env, file);
    if (c) {
      out.accounts.push_back(std::move(c).value());
    } else {
      out.skipped.push_back(std::move(c).err());
    }
  }
  return out;
}

loaded_accounts load_accounts_hash(const std::vector<std::pair<std::string, std::string>>& fields) {
  return load_accounts_hash(fields, from_environment, read_whole_file);
}

common::result<loaded_accounts> load_accounts(const std::string& path) {
  const auto text = read_whole_file(path);
  if (!text) return common::error{"invalid_accounts", "cannot read " + path};
  auto entries = parse_accounts(*text);
  if (!entries) return std::move(entries).err();
  const lookup env = from_environment;
  const lookup read_file = read_whole_file;
  loaded_accounts out;
  for (const auto& e : entries.value()) {
    auto c = resolve_account(e, env, read_file);
    if (c) {
      out.accounts.push_back(std::move(c).value());
    } else {
      out.skipped.push_back(std::move(c).err());
    }
  }
  return out;
}

}  // namespace tickstream::ingest
