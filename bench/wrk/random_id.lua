-- bench/wrk/random_id.lua: GET /users/{id}, id uniform in 1..MAX (default 10000).
--   wrk -s bench/wrk/random_id.lua http://127.0.0.1:PORT/users/1 -- MAX
local max = 10000

function init(args)
  max = tonumber(args[1] or max)
  math.randomseed(os.time())
end

function request()
  return wrk.format("GET", "/users/" .. math.random(1, max))
end
