-- GET /api/v1/posts/{id} with ids drawn at random from the seeded posts (BENCH_IDS_FILE).
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ids
function init(args)
  common.seed()
  ids = common.lines(os.getenv("BENCH_IDS_FILE"))
end
function request()
  return wrk.format("GET", "/api/v1/posts/" .. ids[math.random(#ids)])
end
