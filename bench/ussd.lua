-- bench/ussd.lua: Africa's Talking USSD conversations for wrk (scripts/bench, scenario 1).
--
-- Every request is one step of a fresh USSD session dialled on *500#, as Africa's Talking
-- posts it: sessionId, serviceCode, phoneNumber, networkCode and text, the answers so far
-- joined by '*'. Sessions are 1, 2 or 3 steps long, in turn: text "" (the first screen),
-- then "98" (the menu's next page), then "98*1" (an option on it).
--
-- The steps of one session must reach the server in order, each after the answer to the
-- one before (the server reconciles the accumulated text). wrk gives a script no handle
-- on its connections, so each thread keeps SLOTS sessions open at once and takes them in
-- turn: a session's next step leaves SLOTS requests after its previous one, while at most
-- one request per connection is in flight. scripts/bench checks afterwards, from Katto's
-- katto_ussd_requests_total{result="out_of_step"}, that no step overtook its predecessor.
--
-- Environment: BENCH_USSD_PATH (the route, with Katto's ussd.token), BENCH_RUN (a word
-- that makes session ids unique across runs).

local path = os.getenv("BENCH_USSD_PATH") or "/webhooks/africastalking/ussd/token"
local run = os.getenv("BENCH_RUN") or tostring(os.time())
local steps = { "", "98", "98%2A1" } -- "", "98", "98*1", form-encoded
local SLOTS = 1024

local next_tid = 0

function setup(thread)
   thread:set("tid", next_tid)
   next_tid = next_tid + 1
end

local slots, turn, serial
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }

local function new_session(slot)
   serial = serial + 1
   slot.id = "ATUid_" .. run .. "_" .. tid .. "_" .. serial
   slot.phone = string.format("%%2B2547%08d", (tid * 10000000 + serial) % 100000000)
   slot.len = serial % 3 + 1 -- 1, 2 or 3 steps
   slot.step = 1
end

function init(args)
   slots, turn, serial = {}, 0, 0
   for i = 1, SLOTS do
      slots[i] = {}
      new_session(slots[i])
   end
end

function request()
   turn = turn % SLOTS + 1
   local s = slots[turn]
   local body = "sessionId=" .. s.id .. "&serviceCode=%2A500%23&phoneNumber=" .. s.phone
      .. "&networkCode=63902&text=" .. steps[s.step]
   s.step = s.step + 1
   if s.step > s.len then
      new_session(s)
   end
   return wrk.format("POST", path, headers, body)
end
