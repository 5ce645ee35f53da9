-- Script for wrk, used by bench/api.py. Sends the bearer token (BENCH_TOKEN), stops each
-- thread after BENCH_LIMIT responses (wrk itself only bounds by time), and prints the
-- latency percentiles as one JSON line that bench/api.py reads. A stopped thread notes
-- how long it ran, because wrk's own duration counts to the end of -d regardless.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local function now_us()
  local t = ffi.new("bench_timespec")
  ffi.C.clock_gettime(1, t)  -- CLOCK_MONOTONIC
  return tonumber(t.tv_sec) * 1e6 + tonumber(t.tv_nsec) / 1e3
end

local token = os.getenv("BENCH_TOKEN") or ""
local limit = tonumber(os.getenv("BENCH_LIMIT") or "0")
local count = 0
local started = nil
local threads = {}

wrk.headers["Accept"] = "application/json"
if token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  started = now_us()
end

function response(status, headers, body)
  count = count + 1
  if limit > 0 and count >= limit then
    elapsed = now_us() - started
    -- bench/api.py interrupts wrk once every thread has said so, instead of idling to -d.
    io.stderr:write("BENCH_THREAD_DONE\n")
    io.stderr:flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  -- The run lasted until the last thread stopped, or the whole -d if one never did.
  local run_us = 0
  for _, thread in ipairs(threads) do
    local t = thread:get("elapsed")
    if t == nil then
      run_us = summary.duration
      break
    end
    run_us = math.max(run_us, t)
  end
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "bytes": %d, "status_errors": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"mean_us": %.1f}\n',
    summary.requests, run_us, summary.bytes, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
