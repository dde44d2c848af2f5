-- bench/wrk/post_users.lua: POST /users, a new valid user in every request.
-- The username is letters and digits only (3..32) and unique per run:
-- "b" .. TAG .. "n" .. counter, TAG given after `--` (letters/digits).
--   wrk -s bench/wrk/post_users.lua http://127.0.0.1:PORT/users -- TAG
local tag, n = "x", 0
local hdrs = { ["Content-Type"] = "application/json" }

function init(args)
  tag = args[1] or tostring(os.time())
end

function request()
  n = n + 1
  local u = "b" .. tag .. "n" .. n
  return wrk.format("POST", "/users", hdrs,
    '{"username":"' .. u .. '","email":"' .. u .. '@bench.example.com"}')
end
