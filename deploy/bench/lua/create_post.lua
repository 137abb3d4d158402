-- POST /api/v1/posts as JSON with a bearer token, rotating over the logged-in users (BENCH_TOKENS_FILE).
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local tokens, i
local content = string.rep("Benchmark content. ", 25)
function init(args)
  tokens = common.lines(os.getenv("BENCH_TOKENS_FILE"))
  i = (thread_number or 0) * 7
end
function request()
  i = i + 1
  local body = string.format('{"title":"wrk post %d-%d","content":"%s","published":true}', thread_number or 0, i, content)
  return wrk.format("POST", "/api/v1/posts", {
    ["Authorization"] = "Bearer " .. tokens[i % #tokens + 1],
    ["Content-Type"] = "application/json",
  }, body)
end
