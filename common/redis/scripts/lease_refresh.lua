-- Extends a connection lease (edge/auth/connection_leases). A missing lease is added again: its
-- connection is still open, so it still counts against the user's limit after Redis lost it (a
-- restart without persistence, a failover to a replica that never had it, or a lease that lapsed
-- while the edge could not reach Redis). A closed connection's lease is removed by ZREM, which is
-- sent after the connection's last refresh, so nothing re-adds it.
-- KEYS[1]  ts:{u:<id>}:conns, sorted set lease id -> expiry (ms)
-- ARGV[1]  lease ttl (ms)
-- ARGV[2]  the lease's id
-- Returns  1 if the lease was there, 0 if it was added again.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
local added = redis.call('ZADD', KEYS[1], now + ttl, ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return 1 - added
