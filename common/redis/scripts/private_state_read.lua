-- Reads one user's private state as of exactly one seq (edge/portfolio/private_state_reader), for a
-- snapshot, a resume or a gap fill. Read-only; the reader of what private_store.lua writes.
-- KEYS[1]  ts:{u:<id>}:seq     KEYS[2]  ts:{u:<id>}:hist (ids "<seq>-1")
-- KEYS[3]  ts:{u:<id>}:pos     KEYS[4]  ts:{u:<id>}:orders     KEYS[5]  ts:{u:<id>}:acct
-- ARGV[1]  history wanted after this seq (-1: no history)
-- ARGV[2]  positions, ARGV[3] open orders, ARGV[4] account: "1" when wanted
-- ARGV[5]  the most history events to return (further back: incomplete, the edge resyncs)
-- Returns  {seq, complete (1: history holds exactly the events after ARGV[1] up to seq), {history},
--          {positions}, {open orders}, account or false}
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local after = tonumber(ARGV[1])
local complete, hist = 0, {}
if after >= 0 then
  if after == cur then
    complete = 1
  elseif after < cur and cur - after <= tonumber(ARGV[5]) then
    local entries = redis.call('XRANGE', KEYS[2], (after + 1) .. '-0', '+')
    -- Ids are unique seqs in (after, cur]: the right count starting at after+1 means no gap.
    if #entries == cur - after and entries[1][1] == (after + 1) .. '-1' then
      complete = 1
      for i, e in ipairs(entries) do hist[i] = e[2][2] end
    end
  end
end
local pos, ord, acct = {}, {}, false
if ARGV[2] == '1' then pos = redis.call('HVALS', KEYS[3]) end
if ARGV[3] == '1' then ord = redis.call('HVALS', KEYS[4]) end
if ARGV[4] == '1' then acct = redis.call('GET', KEYS[5]) end
return {cur, complete, hist, pos, ord, acct}
