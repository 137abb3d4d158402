-- A fixed GET (the URL wrk was given): /api/v1/health, /api/v1/posts?limit=20. No request() function, so
-- wrk sends its prebuilt request with no Lua call per request: the cheapest client there is.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
