-- A fixed GET (the URL wrk was given): /api/v1/health, /api/v1/posts?limit=20.
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
-- Without request() wrk sends its prebuilt request with no Lua call per request: the cheapest client.
-- Only the leak run (BENCH_STOP_AFTER) needs a per-request call to count.
if os.getenv("BENCH_STOP_AFTER") then
  local req
  function init(args) req = wrk.format("GET") end
  request = common.counted(function() return req end)
end
