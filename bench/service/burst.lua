-- wrk script for the cold burst: the requests of orders.lua, and a count of the responses that arrive within the
-- first second after wrk's start (its setup, before any connection opens), counted by wrk itself as each response
-- arrives: the client's view, which includes connecting and the service's cold start.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } umcg_timespec;
  int clock_gettime(int clock, umcg_timespec *ts);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("umcg_timespec")

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "orders.lua")

-- In wrk's main Lua state (loaded as wrk starts): the start, handed to every thread as the global burst_start
-- (each thread loads this script again in a state of its own, so a local here would be the thread's own time).
local threads = {}
local wrk_start = now()

setup = function(thread)
  thread:set("burst_start", wrk_start)
  table.insert(threads, thread)
end

-- In each thread's Lua state.
first_second, first_second_ok, first_response = 0, 0, -1

response = function(status, headers, body)
  local elapsed = now() - burst_start
  if first_response < 0 then
    first_response = elapsed
  end
  if elapsed < 1.0 then
    first_second = first_second + 1
    if status >= 200 and status < 300 then
      first_second_ok = first_second_ok + 1
    end
  end
end

done = function(summary, latency, requests)
  local total, ok, earliest = 0, 0, -1
  for _, thread in ipairs(threads) do
    total = total + thread:get("first_second")
    ok = ok + thread:get("first_second_ok")
    local f = thread:get("first_response")
    if f >= 0 and (earliest < 0 or f < earliest) then
      earliest = f
    end
  end
  io.write(string.format("first_second_completions %d\nfirst_second_2xx %d\nfirst_response_s %.3f\n", total, ok, earliest))
end
