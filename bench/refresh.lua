-- wrk script: refresh_token grant with rotation. Each thread keeps a pool of live refresh tokens
-- (from TOKENS_FILE, split between threads); a token leaves the pool when sent and its rotated
-- successor enters it when the response arrives, so no token is ever presented twice.
local id = os.getenv("CLIENT_ID")
local secret = os.getenv("CLIENT_SECRET")
local file = os.getenv("TOKENS_FILE")
local share = dofile("bench/share.lua")  -- run from the repository root, as bench/*.sh do
setup = share.setup

local pool = {}
errors = 0
local header

local b64 = dofile("bench/base64.lua")  -- run from the repository root, as bench/*.sh do

function init(args)
  header = "Basic " .. b64(id .. ":" .. secret)
  pool = share.lines(file, index)
end

function request()
  local token = table.remove(pool)
  if token == nil then token = "pool-empty" end
  return wrk.format("POST", nil, { ["Content-Type"] = "application/x-www-form-urlencoded", ["Authorization"] = header },
    "grant_type=refresh_token&refresh_token=" .. token)
end

function response(status, headers, body)
  local token = body:match('"refresh_token"%s*:%s*"([^"]+)"')
  if status ~= 200 or token == nil then errors = errors + 1 else table.insert(pool, token) end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(share.threads) do total = total + (thread:get("errors") or 0) end
  io.write(string.format("non-200 responses: %d\n", total))
end
