-- wrk script: client_credentials with a DPoP proof per request (RFC 9449). The proofs are made
-- beforehand (bench/dpop_proofs.py, one per line in PROOFS_FILE, split between threads) and each
-- is sent once, so a run measures the server's whole proof check, its single-use jti included.
local id = os.getenv("CLIENT_ID")
local secret = os.getenv("CLIENT_SECRET")
local file = os.getenv("PROOFS_FILE")
local share = dofile("bench/share.lua")  -- run from the repository root, as bench/*.sh do
setup = share.setup

local proofs = {}
local header
local b64 = dofile("bench/base64.lua")  -- run from the repository root, as bench/*.sh do

function init(args)
  header = "Basic " .. b64(id .. ":" .. secret)
  proofs = share.lines(file, index)
end

function request()
  local proof = table.remove(proofs) or "proofs-used-up"
  return wrk.format("POST", nil,
    { ["Content-Type"] = "application/x-www-form-urlencoded", ["Authorization"] = header, ["DPoP"] = proof },
    "grant_type=client_credentials&scope=api.read")
end
