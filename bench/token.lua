-- wrk script: client_credentials with client_secret_basic. CLIENT_ID and CLIENT_SECRET come from the environment.
local id = os.getenv("CLIENT_ID")
local secret = os.getenv("CLIENT_SECRET")
local b64 = dofile("bench/base64.lua")  -- run from the repository root, as bench/*.sh do
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=api.read"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. b64(id .. ":" .. secret)

local errors = 0
function response(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end
