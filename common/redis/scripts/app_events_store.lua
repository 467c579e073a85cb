-- Stores a batch of one user's application events (the server API's POST /v1/publish), in order and
-- atomically on the user's slot (ingest/publish/private_store): for each event, de-duplicate by its
-- idempotency key, take the next seq, append to the history, publish. The same writes, in the same
-- order, as private_store.lua makes for one event of kind "app_event" (no snapshot is touched), one
-- script run per user and request instead of one per event.
-- KEYS[1]  ts:{u:<id>}:seq     counter                 KEYS[2]  ts:{u:<id>}:hist    stream, id "<seq>-1"
-- KEYS[3]  ts:{u:<id>}:execs   zset of dedupe ids
-- ARGV[1]  history length (approximate cap)
-- ARGV[2]  the user's channel, ts:{u:<id>}
-- ARGV[3]  now (ms), for the de-duplication window (7 days)
-- ARGV[4 + 3k], ARGV[5 + 3k], ARGV[6 + 3k]  event k: its JSON before the seq field, its JSON after
--          it, its de-duplication id ("": none)
-- Returns  one integer per event, in order: its seq, or 0 for a duplicate (nothing stored, nothing
--          published); a key given twice in the batch is stored once, by its first event.
local now = ARGV[3]
local seqs = {}
local trimmed = false
for i = 4, #ARGV, 3 do
  local dedupe = ARGV[i + 2]
  if dedupe ~= '' and redis.call('ZSCORE', KEYS[3], dedupe) then
    seqs[#seqs + 1] = 0
  else
    local seq = redis.call('INCR', KEYS[1])
    local ev = ARGV[i] .. ',"seq":' .. seq .. ARGV[i + 1]
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], seq .. '-1', 'e', ev)
    redis.call('PUBLISH', ARGV[2], ev)
    -- The key is kept only once its event is stored: a write that fails (a script error leaves
    -- what came before it) never marks an event as stored that is not.
    if dedupe ~= '' then
      redis.call('ZADD', KEYS[3], now, dedupe)
      if not trimmed then
        redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', tonumber(now) - 604800000)
        trimmed = true
      end
    end
    seqs[#seqs + 1] = seq
  end
end
return seqs
