-- Script for wrk, used by bench/api.py. Sends the bearer token (BENCH_TOKEN), stops each
-- thread after BENCH_LIMIT responses (wrk itself only bounds by time), and prints the
-- latency percentiles as one JSON line that bench/api.py reads.
local token = os.getenv("BENCH_TOKEN") or ""
local limit = tonumber(os.getenv("BENCH_LIMIT") or "0")
local count = 0

wrk.headers["Accept"] = "application/json"
if token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

function response(status, headers, body)
  count = count + 1
  if limit > 0 and count >= limit then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "bytes": %d, "status_errors": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
