-- wrk script: GET /orders/{customer} with the customer drawn at random from the sample's 5,000, so that every
-- request reads a different row set (not one cached answer).
local customers = 5000

local function seed_thread()
  -- Each wrk thread has its own Lua state; seed each differently so threads do not repeat one another's sequence.
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

init = function(args)
  seed_thread()
end

request = function()
  return wrk.format("GET", "/orders/" .. math.random(0, customers - 1))
end
