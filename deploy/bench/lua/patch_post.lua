-- PATCH /api/v1/posts/{id} with a bearer token (BENCH_TOKENS_FILE, the author's), on ids drawn at random from
-- a few posts (BENCH_IDS_FILE): writers contend for the same rows. 412 (another writer changed the post between
-- this one's read and write) counts in non2xx.
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ids, tokens, i
function init(args)
  common.seed()
  ids = common.lines(os.getenv("BENCH_IDS_FILE"))
  tokens = common.lines(os.getenv("BENCH_TOKENS_FILE"))
  i = 0
end
function request()
  i = i + 1
  return wrk.format("PATCH", "/api/v1/posts/" .. ids[math.random(#ids)], {
    ["Authorization"] = "Bearer " .. tokens[1],
    ["Content-Type"] = "application/json",
  }, string.format('{"title":"edit %d-%d"}', thread_number or 0, i))
end
