#pragma once
// Redis names of one user's private data (docs/ARCHITECTURE.md, "Redis layout"). The hash tag
// {u:<id>} keeps a user's channel and keys in one Redis Cluster slot, so one Lua script can
// update (ingest) or read (edge) all of them atomically.

#include <string>
#include <string_view>

namespace tickstream::common {

// "ts:{u:<id>}": the pub/sub channel of the user's private events.
inline std::string user_channel(std::string_view user_id) { return "ts:{u:" + std::string(user_id) + "}"; }
// "ts:{u:<id>}:<suffix>": seq (counter), hist (stream, id = seq), pos (hash symbol -> position),
// orders (hash order id -> open order), acct (account), execs (dedupe ids), conns (leases).
inline std::string user_key(std::string_view user_id, std::string_view suffix) {
  return user_channel(user_id) + ":" + std::string(suffix);
}

}  // namespace tickstream::common
