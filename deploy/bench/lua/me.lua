-- GET /api/v1/users/me with a bearer token, rotating over the logged-in users (BENCH_TOKENS_FILE).
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local tokens, i
function init(args)
  tokens = common.lines(os.getenv("BENCH_TOKENS_FILE"))
  i = (thread_number or 0) * 7
end
function request()
  i = i + 1
  return wrk.format("GET", "/api/v1/users/me", { ["Authorization"] = "Bearer " .. tokens[i % #tokens + 1] })
end
