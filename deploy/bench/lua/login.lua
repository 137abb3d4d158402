-- POST /api/v1/auth/login, form-encoded (OAuth2 password flow), rotating over the seeded users
-- (BENCH_EMAILS_FILE, all with the password BENCH_PASSWORD). Every login is one Argon2id verification.
local common = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local emails, i
local password = os.getenv("BENCH_PASSWORD")
local function encode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
function init(args)
  emails = common.lines(os.getenv("BENCH_EMAILS_FILE"))
  i = (thread_number or 0) * 101
end
function request()
  i = i + 1
  local body = "grant_type=password&username=" .. encode(emails[i % #emails + 1]) .. "&password=" .. encode(password)
  return wrk.format("POST", "/api/v1/auth/login", { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end
