-- Stores one private event for its user, atomically on the user's slot (ingest/publish/private_store):
-- de-duplicate, check the state it was computed from, take the next seq, append to the history,
-- update the snapshot, publish. The writer of what private_state_read.lua reads.
-- KEYS[1]  ts:{u:<id>}:seq     counter                 KEYS[2]  ts:{u:<id>}:hist    stream, id "<seq>-1"
-- KEYS[3]  ts:{u:<id>}:pos     hash symbol -> event    KEYS[4]  ts:{u:<id>}:acct    string
-- KEYS[5]  ts:{u:<id>}:orders  hash order id -> event  KEYS[6]  ts:{u:<id>}:execs   zset of dedupe ids
-- ARGV[1]  the event's type (order_update, trade_executed, position_update, account_update)
-- ARGV[2]  its JSON before the seq field, ARGV[3] its JSON after it
-- ARGV[4]  its snapshot field: symbol (position) or order id (order)
-- ARGV[5]  history length (approximate cap)
-- ARGV[6]  the user's channel, ts:{u:<id>}
-- ARGV[7]  order: "open" | "closed"; position: "held" | "flat"; else ""
-- ARGV[8]  now (ms), for the de-duplication window (7 days)
-- ARGV[9]  de-duplication id ("": none)
-- ARGV[10] compare-and-set: the seq of the stored position (ARGV[4]) the event was computed from,
--          "0" for none ("": not checked)
-- ARGV[11] compare-and-set: the seq of the stored account, "0" for none ("": not checked)
-- ARGV[12], ARGV[13]  a second event stored right after the first (the account a fill moved):
--          its JSON before and after the seq field ("": none)
-- Returns  the first event's seq, 0 for a duplicate (nothing stored, nothing published), or -1 when
--          the stored position or account changed since it was read (nothing stored: read again).
local function stored_seq(json)
  if not json then return '0' end
  return string.match(json, '"seq":(%d+)') or '0'
end

local kind = ARGV[1]
if ARGV[9] ~= '' and redis.call('ZSCORE', KEYS[6], ARGV[9]) then return 0 end
if ARGV[10] ~= '' and stored_seq(redis.call('HGET', KEYS[3], ARGV[4])) ~= ARGV[10] then return -1 end
if ARGV[11] ~= '' and stored_seq(redis.call('GET', KEYS[4])) ~= ARGV[11] then return -1 end
if ARGV[9] ~= '' then
  redis.call('ZADD', KEYS[6], ARGV[8], ARGV[9])
  redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', tonumber(ARGV[8]) - 604800000)
end
local seq = redis.call('INCR', KEYS[1])
local ev = ARGV[2] .. ',"seq":' .. seq .. ARGV[3]
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], seq .. '-1', 'e', ev)
if kind == 'position_update' then
  if ARGV[7] == 'flat' then redis.call('HDEL', KEYS[3], ARGV[4]) else redis.call('HSET', KEYS[3], ARGV[4], ev) end
elseif kind == 'account_update' then
  redis.call('SET', KEYS[4], ev)
elseif kind == 'order_update' then
  if ARGV[7] == 'closed' then redis.call('HDEL', KEYS[5], ARGV[4]) else redis.call('HSET', KEYS[5], ARGV[4], ev) end
end
redis.call('PUBLISH', ARGV[6], ev)
if ARGV[12] ~= '' then
  local acct_seq = redis.call('INCR', KEYS[1])
  local acct = ARGV[12] .. ',"seq":' .. acct_seq .. ARGV[13]
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], acct_seq .. '-1', 'e', acct)
  redis.call('SET', KEYS[4], acct)
  redis.call('PUBLISH', ARGV[6], acct)
end
return seq
