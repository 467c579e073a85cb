-- Extends a connection lease that still exists (edge/auth/connection_leases); a lapsed one stays gone.
-- KEYS[1]  ts:{u:<id>}:conns, sorted set lease id -> expiry (ms)
-- ARGV[1]  lease ttl (ms)
-- ARGV[2]  the lease's id
-- Returns  1.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
if redis.call('ZADD', KEYS[1], 'XX', 'CH', now + ttl, ARGV[2]) == 1 then redis.call('PEXPIRE', KEYS[1], ttl * 2) end
return 1
