-- Takes one connection lease for a user if the user is below the limit (edge/auth/connection_leases).
-- Expiries are Redis's own clock, so edges with skewed clocks agree; expired leases are dropped first.
-- KEYS[1]  ts:{u:<id>}:conns, sorted set lease id -> expiry (ms)
-- ARGV[1]  lease ttl (ms)
-- ARGV[2]  the user's connection limit
-- ARGV[3]  the new lease's id ("<node-id>:<n>")
-- Returns  1 if granted, 0 if the user is at the limit.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return 1
