-- Shared by every scenario script: loaded with dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua").
-- Files and settings come from the environment (run.sh sets them). Runs are bounded by time (wrk -d):
-- wrk's thread:stop() does not end the run early, so the leak run counts requests over several runs instead.
local common = {}

-- The lines of a file (ids, tokens, emails), without blanks.
function common.lines(path)
  local items = {}
  local file = assert(io.open(assert(path, "file path not set"), "r"))
  for line in file:lines() do
    if line ~= "" then items[#items + 1] = line end
  end
  file:close()
  assert(#items > 0, "no lines in " .. path)
  return items
end

-- Each thread gets its own number (for offsets and random seeds).
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("thread_number", counter)
end

function common.seed()
  math.randomseed(os.time() * 1000 + (thread_number or 0))
end

-- One parseable line; run.sh reads it. Latencies in ms. "non2xx" is wrk's count of status >= 400
-- (no scenario here is expected to produce 3xx).
function done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "BENCH requests=%d seconds=%.2f rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d errors=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write, e.timeout))
end

return common
