-- wrk helpers for scripts whose two threads share out the lines of a file (bench/refresh.lua,
-- bench/dpop.lua): `setup` numbers each thread (its global `index`, from 1) and keeps it in
-- `threads` for `done`; `lines(file, index)` is that thread's share, every other line.
local share = { threads = {} }

function share.setup(thread)
  table.insert(share.threads, thread)
  thread:set("index", #share.threads)
end

function share.lines(file, index)
  local mine, n = {}, 0
  for line in io.lines(file) do
    n = n + 1
    if n % 2 == index - 1 then table.insert(mine, line) end
  end
  return mine
end

return share
