"""Every state change is one Lua script, named here.

Conventions shared by all scripts:

- ``KEYS[1]`` dead list, ``KEYS[2]`` done index (sorted set), ``KEYS[3]`` the set of
  queue names. Per-job and per-queue keys are derived from ``ARGV[1]``, the namespace
  prefix (``jq:{ns}:``); its hash tag keeps every key of a namespace in one cluster slot.
- ``ARGV[2]`` is ``now`` in epoch milliseconds: scripts never read the server clock.
- Structured arguments arrive as one JSON string; results leave as one JSON string,
  so every transport (RESP or Upstash REST) returns the same thing.

Per-queue keys: ``queue:<q>:<prio>`` ready list, ``prios:<q>`` sorted set of the
priorities with a non-empty ready list, ``scheduled:<q>`` and ``running:<q>`` sorted
sets (score = run_at / lease deadline), ``stats:<q>`` counters. ``deadq`` holds the
number of dead letters per queue (the dead list itself is one, newest first).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Script:
    name: str
    source: str
    # sent a second time after a failure: only scripts that are safe to repeat (the
    # claim is not: a repeat leases more jobs) and worth the wait
    retry: bool
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.source.encode()).hexdigest())


# Helpers prepended to every script (Lua 5.1, as in Redis).
_LIB = r"""
local prefix = ARGV[1]
local now = tonumber(ARGV[2])
local function jkey(id) return prefix .. 'job:' .. id end
local function qkey(q, suffix) return prefix .. suffix .. ':' .. q end
local function ready_key(q, prio) return prefix .. 'queue:' .. q .. ':' .. prio end
local function group(t, k, v)
  local g = t[k]
  if not g then g = {}; t[k] = g end
  table.insert(g, v)
end
-- lanes: {[q .. '\0' .. prio] = {ids}}; one RPUSH per lane, and the lane (and its
-- queue) is registered only when the push created it
local function push_lanes(lanes, front)
  for lane, ids in pairs(lanes) do
    local sep = string.find(lane, '\0', 1, true)
    local q, prio = string.sub(lane, 1, sep - 1), string.sub(lane, sep + 1)
    local op = 'RPUSH'
    if front then  -- back to the head, in their original order
      op = 'LPUSH'
      for i = 1, math.floor(#ids / 2) do ids[i], ids[#ids - i + 1] = ids[#ids - i + 1], ids[i] end
    end
    if redis.call(op, ready_key(q, prio), unpack(ids)) == #ids then
      redis.call('ZADD', qkey(q, 'prios'), prio, prio)
      redis.call('SADD', KEYS[3], q)
    end
  end
end
local function push_ready(id, q, prio)
  push_lanes({[q .. '\0' .. prio] = {id}})
end
local function count(q, field, n)
  redis.call('HINCRBY', qkey(q, 'stats'), field, n or 1)
end
local function zadd_all(key, pairs_list)
  if #pairs_list > 0 then redis.call('ZADD', key, unpack(pairs_list)) end
end
local function hash_to_table(flat)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end
local function queues_or_all(qs)
  if #qs == 0 then return redis.call('SMEMBERS', KEYS[3]) end
  return qs
end
local function dead_gauge(q, n) redis.call('HINCRBY', prefix .. 'deadq', q, n) end
local function drop_dead(id)
  local st = redis.call('HMGET', jkey(id), 'status', 'queue')
  if st[1] == 'dead' then
    dead_gauge(st[2], -1)
    redis.call('DEL', jkey(id))
  end
end
-- Retention of dead letters: at most `cap` (when check_cap), none older than `ttl`
-- (by finished_at; the list is newest first, so only its tail is looked at).
local function trim_dead(cap, ttl, check_cap)
  if check_cap then
    while redis.call('LLEN', KEYS[1]) > cap do drop_dead(redis.call('RPOP', KEYS[1])) end
  end
  for _ = 1, 100 do
    local tail = redis.call('LINDEX', KEYS[1], -1)
    if not tail then break end
    local at = tonumber(redis.call('HGET', jkey(tail), 'finished_at'))
    if at and at > now - ttl then break end
    redis.call('RPOP', KEYS[1])
    drop_dead(tail)
  end
end
local function send_to_dead(id, q, err, cap, ttl)
  redis.call('HSET', jkey(id), 'status', 'dead', 'finished_at', now, 'last_error', err)
  redis.call('LPUSH', KEYS[1], id)
  dead_gauge(q, 1)
  count(q, 'dead')
  trim_dead(cap, ttl, true)
end
-- Retention of finished (succeeded or cancelled) records: those older than ttl, and
-- all but the newest cap, are deleted: one DEL per record instead of a PEXPIRE per
-- record. Runs at every claim and finish, so it stays current.
local function trim_done(ttl, cap)
  local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - ttl, 'LIMIT', 0, 1000)
  for _, id in ipairs(old) do redis.call('DEL', jkey(id)) end
  if #old > 0 then redis.call('ZREM', KEYS[2], unpack(old)) end
  local excess = redis.call('ZCARD', KEYS[2]) - cap
  if excess > 0 then
    for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, excess - 1)) do
      redis.call('DEL', jkey(id))
    end
    redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
  end
end
local function mark_done(ids, ttl, cap)
  local args = {}
  for _, id in ipairs(ids) do table.insert(args, now); table.insert(args, id) end
  zadd_all(KEYS[2], args)
  trim_done(ttl, cap)
end
"""


def _script(name: str, body: str, *, retry: bool) -> Script:
    return Script(name, _LIB + body, retry)


# ENQUEUE: ARGV[3] = JSON list of jobs, each an object with id, type, queue, payload
# (JSON text), max_attempts, priority, timeout_ms, backoff (JSON text), run_at, and
# optionally dedupe_key + dedupe_ttl_ms. Idempotent on the job id; a live dedupe key
# returns its owner. No counter is written: `enqueued` is derived in STATS.
# Returns JSON [[id, status, deduplicated 0/1, the existing flat record or []], ...].
ENQUEUE = _script(
    "enqueue",
    r"""
local out, lanes = {}, {}
for i, j in ipairs(cjson.decode(ARGV[3])) do
  local id, dedup = j.id, 0
  local status = redis.call('HGET', jkey(id), 'status')
  if status then
    dedup = 1
  elseif j.dedupe_key then
    -- value 'owner|expires_at': the window is judged by `now`, the PX only frees memory
    local v = redis.call('GET', prefix .. 'dedupe:' .. j.dedupe_key)
    if v then
      local sep = string.find(v, '|', 1, true)
      local owner = string.sub(v, 1, sep - 1)
      if tonumber(string.sub(v, sep + 1)) > now then
        status = redis.call('HGET', jkey(owner), 'status')
        if status then id, dedup = owner, 1 end
      end
    end
  end
  if dedup == 0 then
    local run_at = tonumber(j.run_at)
    status = 'queued'
    if run_at > now then status = 'scheduled' end
    local rec = {'id', id, 'type', j.type, 'queue', j.queue, 'status', status,
      'payload', j.payload, 'attempts', 0, 'max_attempts', j.max_attempts,
      'priority', j.priority, 'timeout_ms', j.timeout_ms, 'backoff', j.backoff,
      'created_at', now, 'run_at', run_at}
    if j.dedupe_key then
      table.insert(rec, 'dedupe_key'); table.insert(rec, j.dedupe_key)
      redis.call('SET', prefix .. 'dedupe:' .. j.dedupe_key, id .. '|' .. (now + j.dedupe_ttl_ms),
        'PX', j.dedupe_ttl_ms)
    end
    redis.call('HSET', jkey(id), unpack(rec))
    if status == 'scheduled' then
      redis.call('ZADD', qkey(j.queue, 'scheduled'), run_at, id)
      redis.call('SADD', KEYS[3], j.queue)
    else
      group(lanes, j.queue .. '\0' .. j.priority, id)
    end
  end
  local existing = {}
  if dedup == 1 then existing = redis.call('HGETALL', jkey(id)) end
  out[i] = {id, status, dedup, existing}
end
push_lanes(lanes)
return cjson.encode(out)
""",
    retry=True,
)

# CLAIM: ARGV[3] = JSON object: count, token (unique per call), max_lease_ms (time
# left), margin_ms, dead_cap, dead_ttl_ms, done_ttl_ms, done_cap, sweep (max ids
# promoted or recovered per queue), queues (list; empty = all), ids (list; claim
# exactly these, if queued or scheduled), budget_ms (a whole drain's budget).
# Applies retention; then per queue: promote due scheduled jobs, recover expired
# leases (an attempt used: requeue, or dead when none is left); then pop up to
# `count` ids across queues in priority order and lease each, except jobs whose
# timeout exceeds the time left but not a whole budget: they go back to the head of
# their lane for the next drain (a job that fits no budget runs with the time left).
# Returns JSON {jobs: [[id, type, queue, payload, attempts, max_attempts,
# timeout_ms, backoff, token, lease_until]], promoted, recovered: [ids], expired:
# [ids sent to dead], more: 0/1}.
CLAIM = _script(
    "claim",
    r"""
local a = cjson.decode(ARGV[3])
trim_done(a.done_ttl_ms, a.done_cap)
trim_dead(a.dead_cap, a.dead_ttl_ms, false)
local queues = queues_or_all(a.queues)
local promoted, recovered, expired, back = 0, {}, {}, {}
for _, q in ipairs(queues) do
  local due = redis.call('ZRANGEBYSCORE', qkey(q, 'scheduled'), '-inf', now, 'LIMIT', 0, a.sweep)
  for _, id in ipairs(due) do
    redis.call('ZREM', qkey(q, 'scheduled'), id)
    local st = redis.call('HMGET', jkey(id), 'status', 'priority')
    if st[1] == 'scheduled' then
      redis.call('HSET', jkey(id), 'status', 'queued')
      group(back, q .. '\0' .. st[2], id)
      promoted = promoted + 1
    end
  end
  local late = redis.call('ZRANGEBYSCORE', qkey(q, 'running'), '-inf', now, 'LIMIT', 0, a.sweep)
  for _, id in ipairs(late) do
    redis.call('ZREM', qkey(q, 'running'), id)
    local st = redis.call('HMGET', jkey(id), 'status', 'priority', 'attempts', 'max_attempts')
    if st[1] == 'running' then
      count(q, 'failed')
      local err = 'lease expired during attempt ' .. st[3] .. ' (worker killed or timed out)'
      if tonumber(st[3]) >= tonumber(st[4]) then
        send_to_dead(id, q, err, a.dead_cap, a.dead_ttl_ms)
        table.insert(expired, id)
      else
        redis.call('HSET', jkey(id), 'status', 'queued', 'last_error', err, 'run_at', now)
        group(back, q .. '\0' .. st[2], id)
        count(q, 'recovered')
        table.insert(recovered, id)
      end
    end
  end
end

push_lanes(back)

local picked = {}
if #a.ids > 0 then
  for _, id in ipairs(a.ids) do
    local st = redis.call('HMGET', jkey(id), 'status', 'queue', 'priority')
    if st[1] == 'queued' then
      local key = ready_key(st[2], st[3])
      redis.call('LREM', key, 1, id)
      if redis.call('LLEN', key) == 0 then redis.call('ZREM', qkey(st[2], 'prios'), st[3]) end
      table.insert(picked, id)
    elseif st[1] == 'scheduled' then
      redis.call('ZREM', qkey(st[2], 'scheduled'), id)
      table.insert(picked, id)
    end
  end
else
  local lanes = {}
  for qi, q in ipairs(queues) do
    local ps = redis.call('ZRANGE', qkey(q, 'prios'), 0, -1)
    for _, p in ipairs(ps) do table.insert(lanes, {tonumber(p), qi, q, p}) end
  end
  table.sort(lanes, function(x, y)
    if x[1] ~= y[1] then return x[1] < y[1] end
    return x[2] < y[2]
  end)
  for _, lane in ipairs(lanes) do
    local want = a.count - #picked
    if want <= 0 then break end
    local key = ready_key(lane[3], lane[4])
    local ids = redis.call('LPOP', key, want)
    if ids then for _, id in ipairs(ids) do table.insert(picked, id) end end
    if redis.call('LLEN', key) == 0 then redis.call('ZREM', qkey(lane[3], 'prios'), lane[4]) end
  end
end

local jobs, leases, unfit = {}, {}, {}
for i, id in ipairs(picked) do
  local f = redis.call('HMGET', jkey(id), 'type', 'queue', 'payload', 'attempts',
    'max_attempts', 'timeout_ms', 'backoff', 'status', 'priority')
  local timeout = tonumber(f[6])
  if #a.ids == 0 and timeout > a.max_lease_ms and timeout <= a.budget_ms then
    group(unfit, f[2] .. '\0' .. f[9], id)  -- a fresh drain can finish it: leave it queued
  elseif f[8] == 'queued' or f[8] == 'scheduled' then
    local attempt = tonumber(f[4]) + 1
    local token = a.token .. ':' .. i
    local lease_until = now + math.min(tonumber(f[6]), a.max_lease_ms) + a.margin_ms
    redis.call('HSET', jkey(id), 'status', 'running', 'attempts', attempt,
      'started_at', now, 'lease_token', token, 'lease_until', lease_until)
    group(leases, f[2], lease_until)
    group(leases, f[2], id)
    table.insert(jobs, {id, f[1], f[2], f[3], attempt, tonumber(f[5]), tonumber(f[6]), f[7],
      token, lease_until})
  end
end

for q, args in pairs(leases) do zadd_all(qkey(q, 'running'), args) end
push_lanes(unfit, true)
if #jobs > 0 then  -- what RELEASE needs if this answer never reaches the caller
  local ids = {}
  for _, j in ipairs(jobs) do table.insert(ids, j[1]) end
  redis.call('SET', prefix .. 'claim:' .. a.token, cjson.encode(ids), 'PX',
    a.max_lease_ms + a.margin_ms)
end
local more = 0
for _, q in ipairs(queues) do
  if redis.call('ZCARD', qkey(q, 'prios')) > 0 then more = 1 break end
end
return cjson.encode({jobs = jobs, promoted = promoted, recovered = recovered,
  expired = expired, more = more})
""",
    retry=False,
)

# FINISH: ARGV[3] = JSON object: done_ttl_ms, done_cap, dead_ttl_ms, dead_cap,
# claims (the claim tokens whose answers arrived: their RELEASE notes are dropped),
# outcomes: [[id, token, kind, data, run_at]] with kind 'ok' (data = result JSON),
# 'retry' (data = error, run_at = when) or 'dead' (data = error). Each outcome is
# applied only while the job is running under that exact lease token (fencing).
# Returns JSON {ok, retry, dead, stale: [ids rejected]}.
FINISH = _script(
    "finish",
    r"""
local a = cjson.decode(ARGV[3])
local res = {ok = 0, retry = 0, dead = 0, stale = {}}
local unlease, succeeded, counters = {}, {}, {}
for _, o in ipairs(a.outcomes) do
  local id, token, kind, data = o[1], o[2], o[3], o[4]
  local st = redis.call('HMGET', jkey(id), 'status', 'lease_token', 'queue')
  if st[1] ~= 'running' or st[2] ~= token then
    table.insert(res.stale, id)
  else
    local q = st[3]
    group(unlease, q, id)
    local c = counters[q] or {succeeded = 0, failed = 0, retried = 0}
    counters[q] = c
    if kind == 'ok' then
      redis.call('HSET', jkey(id), 'status', 'succeeded', 'finished_at', now, 'result', data)
      table.insert(succeeded, id)
      c.succeeded = c.succeeded + 1
    else
      c.failed = c.failed + 1
      if kind == 'retry' then
        redis.call('HSET', jkey(id), 'status', 'scheduled', 'run_at', o[5], 'last_error', data)
        redis.call('ZADD', qkey(q, 'scheduled'), o[5], id)
        c.retried = c.retried + 1
      else
        send_to_dead(id, q, data, a.dead_cap, a.dead_ttl_ms)
      end
    end
    res[kind] = res[kind] + 1
  end
end
for q, ids in pairs(unlease) do redis.call('ZREM', qkey(q, 'running'), unpack(ids)) end
for q, c in pairs(counters) do
  for field, n in pairs(c) do if n > 0 then count(q, field, n) end end
end
if #succeeded > 0 then mark_done(succeeded, a.done_ttl_ms, a.done_cap) end
for _, token in ipairs(a.claims) do redis.call('DEL', prefix .. 'claim:' .. token) end
return cjson.encode(res)
""",
    retry=True,
)

# CANCEL: ARGV[3] = job id, ARGV[4] = done_ttl_ms, ARGV[5] = done_cap. Cancels a
# queued or scheduled job. Returns JSON [outcome, status, record]: outcome
# 'cancelled' (with the flat record), 'missing' or 'refused' (status says why).
CANCEL = _script(
    "cancel",
    r"""
local id = ARGV[3]
local st = redis.call('HMGET', jkey(id), 'status', 'queue', 'priority')
if not st[1] then return cjson.encode({'missing', '', {}}) end
if st[1] == 'queued' then
  local key = ready_key(st[2], st[3])
  redis.call('LREM', key, 1, id)
  if redis.call('LLEN', key) == 0 then redis.call('ZREM', qkey(st[2], 'prios'), st[3]) end
elseif st[1] == 'scheduled' then
  redis.call('ZREM', qkey(st[2], 'scheduled'), id)
else
  return cjson.encode({'refused', st[1], {}})
end
redis.call('HSET', jkey(id), 'status', 'cancelled', 'finished_at', now)
mark_done({id}, tonumber(ARGV[4]), tonumber(ARGV[5]))
count(st[2], 'cancelled')
return cjson.encode({'cancelled', 'cancelled', redis.call('HGETALL', jkey(id))})
""",
    retry=True,
)

# REQUEUE: ARGV[3] = JSON list of ids, or the string "all" for the whole dead list.
# Dead or cancelled jobs go back to their ready list with a fresh attempt count.
# Returns JSON {requeued: [ids], skipped: [[id, status or '']]}.
REQUEUE = _script(
    "requeue",
    r"""
local ids
if ARGV[3] == 'all' then
  ids = redis.call('LRANGE', KEYS[1], 0, -1)
else
  ids = cjson.decode(ARGV[3])
end
local res = {requeued = {}, skipped = {}}
for _, id in ipairs(ids) do
  local st = redis.call('HMGET', jkey(id), 'status', 'queue', 'priority')
  if st[1] == 'dead' or st[1] == 'cancelled' then
    if st[1] == 'dead' then
      dead_gauge(st[2], -1)
      if ARGV[3] ~= 'all' then redis.call('LREM', KEYS[1], 0, id) end
    else
      redis.call('ZREM', KEYS[2], id)
    end
    redis.call('HSET', jkey(id), 'status', 'queued', 'attempts', 0, 'run_at', now)
    redis.call('HDEL', jkey(id), 'finished_at')
    push_ready(id, st[2], st[3])
    count(st[2], 'requeued')
    table.insert(res.requeued, id)
  else
    table.insert(res.skipped, {id, st[1] or ''})
  end
end
if ARGV[3] == 'all' then redis.call('DEL', KEYS[1]) end
return cjson.encode(res)
""",
    retry=True,
)

# PURGE: deletes the dead list and the records of the jobs on it. Returns the count.
PURGE = _script(
    "purge",
    r"""
local ids = redis.call('LRANGE', KEYS[1], 0, -1)
for _, id in ipairs(ids) do
  if redis.call('HGET', jkey(id), 'status') == 'dead' then redis.call('DEL', jkey(id)) end
end
redis.call('DEL', KEYS[1], prefix .. 'deadq')
return cjson.encode(#ids)
""",
    retry=True,
)

# RELEASE: ARGV[3] = the token of a claim whose answer was lost (a timeout, a dropped
# connection). Its jobs that are still leased under that token go back to the head of
# their lane, the attempt not counted: nothing ran them. Returns JSON count released.
RELEASE = _script(
    "release",
    r"""
local key = prefix .. 'claim:' .. ARGV[3]
local ids = cjson.decode(redis.call('GET', key) or '[]')
local mine, lanes, n = ARGV[3] .. ':', {}, 0
for _, id in ipairs(ids) do
  local st = redis.call('HMGET', jkey(id), 'status', 'lease_token', 'queue', 'priority',
    'attempts')
  if st[1] == 'running' and string.sub(st[2] or '', 1, #mine) == mine then
    redis.call('HSET', jkey(id), 'status', 'queued', 'attempts', tonumber(st[5]) - 1)
    redis.call('ZREM', qkey(st[3], 'running'), id)
    group(lanes, st[3] .. '\0' .. st[4], id)
    n = n + 1
  end
end
push_lanes(lanes, true)
redis.call('DEL', key)
return cjson.encode(n)
""",
    retry=False,  # best effort after a failure: do not wait twice on a store that is down
)

# GET: ARGV[3] = JSON list of ids. Returns JSON list of flat field/value lists
# (empty list for a missing job), in order.
GET = _script(
    "get",
    r"""
local out = {}
for i, id in ipairs(cjson.decode(ARGV[3])) do
  out[i] = redis.call('HGETALL', jkey(id))
end
return cjson.encode(out)
""",
    retry=True,
)

# LIST: ARGV[3] = JSON object: status, queue ('' = all), type ('' = all), offset,
# limit, scan (max ids examined). Walks the structure that holds that status, newest
# finished first, and returns JSON {jobs: [flat records], next: offset or -1}.
LIST = _script(
    "list",
    r"""
local a = cjson.decode(ARGV[3])
local function source_ids(q, from, n)
  if a.status == 'dead' then return redis.call('LRANGE', KEYS[1], from, from + n - 1) end
  if a.status == 'succeeded' or a.status == 'cancelled' then
    return redis.call('ZREVRANGE', KEYS[2], from, from + n - 1)
  end
  if a.status == 'scheduled' or a.status == 'running' then
    return redis.call('ZRANGE', qkey(q, a.status), from, from + n - 1)
  end
  local ids = {}
  for _, p in ipairs(redis.call('ZRANGE', qkey(q, 'prios'), 0, -1)) do
    for _, id in ipairs(redis.call('LRANGE', ready_key(q, p), 0, from + n - 1)) do
      table.insert(ids, id)
    end
  end
  local page = {}
  for i = from + 1, math.min(#ids, from + n) do table.insert(page, ids[i]) end
  return page
end
local per_queue = a.status == 'queued' or a.status == 'scheduled' or a.status == 'running'
local queues = {''}
if per_queue then
  if a.queue ~= '' then queues = {a.queue} else queues = redis.call('SMEMBERS', KEYS[3]) end
  table.sort(queues)
end
-- a single offset walks the concatenation of the queues' sources
local jobs, pos, skipped, examined = {}, 0, a.offset, 0
for _, q in ipairs(queues) do
  local ids = source_ids(q, 0, a.offset + a.scan)
  for _, id in ipairs(ids) do
    pos = pos + 1
    if pos > a.offset then
      examined = examined + 1
      local rec = redis.call('HGETALL', jkey(id))
      local t = hash_to_table(rec)
      if #rec > 0 and t.status == a.status and (a.queue == '' or t.queue == a.queue)
        and (a.type == '' or t.type == a.type) then
        table.insert(jobs, rec)
        if #jobs >= a.limit then return cjson.encode({jobs = jobs, next = pos}) end
      end
      if examined >= a.scan then return cjson.encode({jobs = jobs, next = pos}) end
    end
  end
end
return cjson.encode({jobs = jobs, next = -1})
""",
    retry=True,
)

# STATS: ARGV[3] = how many dead ids to sample. Returns JSON {queues: {name:
# {ready, scheduled, running, dead, oldest_ready_at, counters}}, dead, dead_sample}.
# Every job is in exactly one state and each move is counted, so `enqueued` is
# derived (live + succeeded + dead + cancelled - requeued) rather than written on
# every enqueue: one Redis command fewer per job.
STATS = _script(
    "stats",
    r"""
local queues = {}
for _, q in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local ready, oldest = 0, nil
  for _, p in ipairs(redis.call('ZRANGE', qkey(q, 'prios'), 0, -1)) do
    ready = ready + redis.call('LLEN', ready_key(q, p))
    local head = redis.call('LINDEX', ready_key(q, p), 0)
    if head then
      local at = tonumber(redis.call('HGET', jkey(head), 'run_at'))
      if at and (not oldest or at < oldest) then oldest = at end
    end
  end
  local scheduled = redis.call('ZCARD', qkey(q, 'scheduled'))
  local running = redis.call('ZCARD', qkey(q, 'running'))
  local c = hash_to_table(redis.call('HGETALL', qkey(q, 'stats')))
  local function n(field) return tonumber(c[field] or 0) end
  c.enqueued = ready + scheduled + running + n('succeeded') + n('dead') + n('cancelled')
    - n('requeued')
  queues[q] = {ready = ready, scheduled = scheduled, running = running,
    dead = tonumber(redis.call('HGET', prefix .. 'deadq', q) or 0),
    oldest_ready_at = oldest or cjson.null, counters = c}
end
return cjson.encode({queues = queues, dead = redis.call('LLEN', KEYS[1]),
  dead_sample = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[3]) - 1)})
""",
    retry=True,
)

ALL = (ENQUEUE, CLAIM, FINISH, RELEASE, CANCEL, REQUEUE, PURGE, GET, LIST, STATS)
