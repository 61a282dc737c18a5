-- bench/sms.lua: inbound SMS webhooks from a pool of pre-built requests, for wrk
-- (scripts/bench, scenario 2).
--
-- wrk's Lua cannot compute HMAC-SHA1, so bench/sign.c writes the requests beforehand,
-- each a new message with a valid X-Twilio-Signature (one line: PATH, HEADER, BODY,
-- tab-separated). Each wrk thread sends its share of the lines in order. If a run
-- outlasts the pool it starts over: Katto then answers from its dedupe record (a
-- gateway retry), which is cheaper, so scripts/bench makes the pool larger than a
-- round can use and reports how many requests it had.
--
-- Environment: BENCH_POOL (the file).

local pool_path = os.getenv("BENCH_POOL") or "pool.tsv"
local next_tid = 0

function setup(thread)
   thread:set("tid", next_tid)
   next_tid = next_tid + 1
end

local lines, n, i

function init(args)
   lines, n, i = {}, 0, 0
   local k = 0
   local threads_total = tonumber(os.getenv("BENCH_THREADS") or "1")
   for line in io.lines(pool_path) do
      if k % threads_total == tid then
         n = n + 1
         lines[n] = line
      end
      k = k + 1
   end
   if n == 0 then
      error("empty pool " .. pool_path)
   end
end

function request()
   i = i % n + 1
   local path, header, body = lines[i]:match("^([^\t]*)\t([^\t]*)\t(.*)$")
   local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
   if header ~= "-" then
      local name, value = header:match("^([^:]+): (.*)$")
      headers[name] = value
   end
   return wrk.format("POST", path, headers, body)
end
