-- Stores one private event for its user, atomically on the user's slot (ingest/publish/private_store):
-- de-duplicate, take the next seq, append to the history, update the snapshot, publish. The
-- writer of what private_state_read.lua reads.
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
-- ARGV[10..12]  a position moved by a fill: the fill's signed quantity, its price, and the signed
--          position after it ("" otherwise); the JSON then holds @ENTRY@ where the entry price goes
-- Returns  the event's seq, or 0 for a duplicate (nothing stored, nothing published).
-- Exact decimal arithmetic on decimal text, for the average entry price (Lua numbers are
-- doubles). A decimal is {neg, m = digits without leading zeros, s = digits after the point}.
local function dparse(t)
  local neg = false
  if t:sub(1, 1) == '-' then neg = true; t = t:sub(2) end
  local i, f = t:match('^(%d+)%.?(%d*)$')
  local m = (i .. f):gsub('^0+', '')
  if m == '' then return {neg = false, m = '0', s = 0} end
  return {neg = neg, m = m, s = #f}
end
local function dstr(d)
  local m, s = d.m, d.s
  if s > 0 then
    if #m <= s then m = string.rep('0', s - #m + 1) .. m end
    m = m:sub(1, #m - s) .. '.' .. m:sub(#m - s + 1)
    m = m:gsub('0+$', ''):gsub('%.$', '')
  end
  if d.neg and m ~= '0' then m = '-' .. m end
  return m
end
local function ucmp(a, b)
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end
local function strip(m) m = m:gsub('^0+', ''); if m == '' then return '0' end; return m end
local function uadd(a, b)
  local out, carry, i, j = {}, 0, #a, #b
  while i > 0 or j > 0 or carry > 0 do
    local x = (i > 0 and tonumber(a:sub(i, i)) or 0) + (j > 0 and tonumber(b:sub(j, j)) or 0) + carry
    out[#out + 1] = x % 10; carry = math.floor(x / 10); i = i - 1; j = j - 1
  end
  return strip(string.reverse(table.concat(out)))
end
local function usub(a, b)  -- a >= b
  local out, borrow, i, j = {}, 0, #a, #b
  while i > 0 do
    local x = tonumber(a:sub(i, i)) - borrow - (j > 0 and tonumber(b:sub(j, j)) or 0)
    if x < 0 then x = x + 10; borrow = 1 else borrow = 0 end
    out[#out + 1] = x; i = i - 1; j = j - 1
  end
  return strip(string.reverse(table.concat(out)))
end
local function umul(a, b)
  local r = {}
  for k = 1, #a + #b do r[k] = 0 end
  for i = #a, 1, -1 do
    for j = #b, 1, -1 do
      local k = (#a - i) + (#b - j) + 1
      r[k] = r[k] + tonumber(a:sub(i, i)) * tonumber(b:sub(j, j))
    end
  end
  for k = 1, #r - 1 do r[k + 1] = r[k + 1] + math.floor(r[k] / 10); r[k] = r[k] % 10 end
  local digits = {}
  for k = #r, 1, -1 do digits[#digits + 1] = r[k] end
  return strip(table.concat(digits))
end
local function scaled(d, s) return d.m .. string.rep('0', s - d.s) end
local function dabs(d) return {neg = false, m = d.m, s = d.s} end
local function dadd(a, b)  -- both non-negative here
  local s = math.max(a.s, b.s)
  return {neg = false, m = uadd(scaled(a, s), scaled(b, s)), s = s}
end
local function dmul(a, b) return {neg = a.neg ~= b.neg and a.m ~= '0', m = umul(a.m, b.m), s = a.s + b.s} end
local function dcmp(a, b)  -- magnitudes
  local s = math.max(a.s, b.s)
  return ucmp(strip(scaled(a, s)), strip(scaled(b, s)))
end
-- a / b (both positive) rounded half up to `places` decimals.
local function ddiv(a, b, places)
  local s = math.max(a.s, b.s)
  local num = strip(scaled(a, s) .. string.rep('0', places + 1))
  local den = strip(scaled(b, s))
  local q, r = {}, '0'
  for i = 1, #num do
    r = strip(r .. num:sub(i, i))
    local d = 0
    while ucmp(r, den) >= 0 do r = usub(r, den); d = d + 1 end
    q[#q + 1] = d
  end
  local digits = strip(table.concat(q))
  local last = tonumber(digits:sub(-1))
  digits = #digits > 1 and digits:sub(1, -2) or '0'
  if last >= 5 then digits = uadd(digits, '1') end
  return {neg = false, m = digits, s = places}
end

local kind = ARGV[1]
if ARGV[9] ~= '' then
  if redis.call('ZADD', KEYS[6], 'NX', ARGV[8], ARGV[9]) == 0 then return 0 end
  redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', tonumber(ARGV[8]) - 604800000)
end
local before, after = ARGV[2], ARGV[3]
if kind == 'position_update' and ARGV[10] ~= '' then
  -- A fill moved this position: average entry price from the stored position, exactly.
  local q0, avg0 = dparse('0'), dparse('0')
  local old = redis.call('HGET', KEYS[3], ARGV[4])
  if old then
    local o = cjson.decode(old)
    q0 = dparse((o.data.side == 'short' and '-' or '') .. o.data.quantity)
    avg0 = dparse(o.data.entryPrice)
  end
  local fill, price, q1 = dparse(ARGV[10]), dparse(ARGV[11]), dparse(ARGV[12])
  local avg
  if q0.m == '0' or (q1.m ~= '0' and q0.neg ~= q1.neg) then
    avg = price                                     -- opened, or flipped to the other side
  elseif dcmp(q1, q0) > 0 then                      -- added to: weighted by quantity
    avg = ddiv(dadd(dmul(dabs(q0), avg0), dmul(dabs(fill), price)), dabs(q1), 10)
  else
    avg = avg0                                      -- reduced: the average stays
  end
  local text = dstr(avg)
  before = before:gsub('@ENTRY@', text)
  after = after:gsub('@ENTRY@', text)
end
local seq = redis.call('INCR', KEYS[1])
local ev = before .. ',"seq":' .. seq .. after
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], seq .. '-1', 'e', ev)
if kind == 'position_update' then
  if ARGV[7] == 'flat' then redis.call('HDEL', KEYS[3], ARGV[4]) else redis.call('HSET', KEYS[3], ARGV[4], ev) end
elseif kind == 'account_update' then
  redis.call('SET', KEYS[4], ev)
elseif kind == 'order_update' then
  if ARGV[7] == 'closed' then redis.call('HDEL', KEYS[5], ARGV[4]) else redis.call('HSET', KEYS[5], ARGV[4], ev) end
end
redis.call('PUBLISH', ARGV[6], ev)
return seq
