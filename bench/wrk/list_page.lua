-- bench/wrk/list_page.lua: GET /users?limit=20&after={random in 0..MAX-20},
-- i.e. a full page of 20 users starting anywhere in the seeded range.
--   wrk -s bench/wrk/list_page.lua http://127.0.0.1:PORT/users -- MAX
local max = 10000

function init(args)
  max = tonumber(args[1] or max)
  math.randomseed(os.time() + 7)
end

function request()
  return wrk.format("GET", "/users?limit=20&after=" .. math.random(0, max - 20))
end
