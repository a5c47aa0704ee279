-- The verdict cache key's fast path (mod_cordon_guard.lua same_as_memo, label_same) against the
-- key built in full (label_parts, cache_key without a memo): random messages, each often a copy of
-- the last one or the last one changed in one place (an attribute's value or presence, a text, a
-- namespace, a child removed, an element renamed, the type), or the very table changed in place;
-- the recipient's sessions added, ended, replaced, moved, their caps flipped, the bare session
-- table replaced. The key a sending session's memo gives must be the key built in full, and its
-- sessions the recipient's sessions now — a wrong "same" would serve another message's verdict.
-- Usage: lua5.4 cache-key-fuzz.lua MODULE SEED RUNS; prints "mismatches N hits H".
local module_path, seed, runs = arg[1], tonumber(arg[2]) or 1, tonumber(arg[3]) or 100000
-- (Prosody's own util.stanza and util.jid.)
package.path = "/usr/lib/prosody/?.lua;" .. package.path
package.cpath = "/usr/lib/prosody/?.so;" .. package.cpath
local st = require "util.stanza"
local jid_bare = require "util.jid".bare
prosody = { bare_sessions = {} }
local NS_CLIENT, NS_LABELS = "jabber:client", "urn:xmpp:sec-label:0"
local fast_hits, fast_calls = 0, 0
function FAST(v) fast_calls = fast_calls + 1; if v then fast_hits = fast_hits + 1 end; return v end
-- The key's code, from the module itself: its cacheable sets through cache_key.
local text = assert(io.open(module_path)):read("a")
local from = assert(text:find("local NS_CHAT_STATES", 1, true))
local to_ = assert(text:find("local verdicts, cache_bytes", 1, true))
local from2 = assert(text:find("local MAX_KEY_PARTS", 1, true))
local to2 = assert(text:find("-- The verdict kept for", 1, true))
local src = (text:sub(from, to_ - 1) .. text:sub(from2, to2 - 1)):gsub(
  "if memo and same_as_memo%(stanza, origin_kind, sender_ip, to, memo%) then",
  "if memo and FAST(same_as_memo(stanza, origin_kind, sender_ip, to, memo)) then")
local env = setmetatable({ st = st, jid_bare = jid_bare, NS_CLIENT = NS_CLIENT, NS_LABELS = NS_LABELS, FAST = FAST }, { __index = _G })
local chunk = assert(load(src .. "\nreturn cache_key", "body", "t", env))
local cache_key = chunk()
math.randomseed(seed)
local R = math.random
local function pick(t) return t[R(#t)] end
local function gen_label(depth, name)
  local el = st.stanza(name or pick({ "displaymarking", "label", "esssecuritylabel", "x" }), {})
  if name then el.attr.xmlns = NS_LABELS elseif R(3) == 1 then el.attr.xmlns = pick({ "urn:a", "urn:b", NS_LABELS, "" }) end
  for _ = 1, R(0, 2) do el.attr[pick({ "a", "b", "fgcolor" })] = pick({ "", "1", "2", "&" }) end
  for _ = 1, R(0, depth > 0 and 3 or 1) do
    if depth > 0 and R(2) == 1 then el:add_child(gen_label(depth - 1)) else el:text(pick({ "S", "U", "SU" })) end
  end
  return el
end
local function gen_message()
  local m = st.message({ from = pick({ "alice@h/r", "alice@h/s" }), to = pick({ "bob@h", "bob@h/r1", "bob@h/r2" }), id = tostring(R(1000)) })
  local t = pick({ false, "chat", "chat", "normal", "headline", "error" }); if t then m.attr.type = t end
  if R(4) == 1 then m.attr["xml:lang"] = pick({ "en", "de" }) end
  for _ = 1, R(0, 4) do
    local c = R(8)
    if c <= 3 then m:add_child(gen_label(2, "securitylabel"))
    elseif c == 4 then local b = st.stanza("body"); if R(2) == 1 then b.attr["xml:lang"] = pick({ "en", "fr" }) end; b:text("hi"); m:add_child(b)
    elseif c == 5 then local th = st.stanza("thread"); if R(2) == 1 then th.attr.parent = pick({ "p", "q" }) end; m:add_child(th)
    elseif c == 6 then m:add_child(st.stanza(pick({ "active", "composing" }), { xmlns = "http://jabber.org/protocol/chatstates" }))
    elseif c == 7 then m:add_child(st.stanza("origin-id", { xmlns = "urn:xmpp:sid:0", id = tostring(R(5)) }))
    else m:add_child(st.stanza("request", { xmlns = "urn:xmpp:receipts" })) end
  end
  return m
end
-- A message that differs from `m` a little: mutate a copy (the cases that make two keys close).
local function mutate(m)
  local c = st.clone(m)
  local k = R(6)
  local labels = {}
  local function walk(el) for _, ch in ipairs(el) do if type(ch) == "table" then labels[#labels + 1] = ch; walk(ch) end end end
  walk(c)
  local el = #labels > 0 and pick(labels) or c
  if k == 1 then el.attr[pick({ "a", "b", "fgcolor" })] = pick({ "", "1", "2", "&", nil })
  elseif k == 2 then for i = 1, #el do if type(el[i]) == "string" then el[i] = pick({ "S", "U", "SU", "" }) break end end
  elseif k == 3 then if el ~= c then el.attr.xmlns = pick({ nil, "urn:a", NS_LABELS, "" }) end
  elseif k == 4 then if #el > 0 then local x = table.remove(el, R(#el)); if type(x) == "table" then for i, t in ipairs(el.tags) do if t == x then table.remove(el.tags, i) break end end end end
  elseif k == 5 then c.attr.type = pick({ nil, "chat", "normal" })
  else el.name = pick({ "displaymarking", "label", "x", "securitylabel" }) end
  return c
end
local sessions_pool = {}
local function new_session(res) return { resource = res, ip = pick({ "127.0.0.1", "127.0.0.2", nil }), cordon_labels = R(2) == 1 or nil } end
local user = { sessions = { r1 = new_session("r1") } }
prosody.bare_sessions["bob@h"] = user
local function mutate_sessions()
  local k = R(40)
  if k == 1 then user.sessions.r1 = new_session("r1")
  elseif k == 2 then user.sessions.r2 = user.sessions.r2 and nil or new_session("r2")
  elseif k == 3 then local s = user.sessions.r1 or user.sessions.r2; if s then s.ip = pick({ "127.0.0.1", "127.0.0.2" }) end
  elseif k == 4 then local s = user.sessions.r1 or user.sessions.r2; if s then s.cordon_labels = not s.cordon_labels or nil end
  elseif k == 5 then user = { sessions = user.sessions }; prosody.bare_sessions["bob@h"] = user
  elseif k == 6 then user.sessions.r3 = user.sessions.r3 and nil or new_session("r3")
  end
  if not next(user.sessions) then user.sessions.r1 = new_session("r1") end
  if R(3) == 1 then collectgarbage() end
end
local holders = { {}, {} }
local bad = 0
local last = gen_message()
for i = 1, runs do
  local m = (R(3) == 1) and gen_message() or mutate(last)
  if R(2) == 1 then m = st.clone(last) elseif R(6) == 1 then m = last; local x = mutate(last); for kk in pairs(m.attr) do m.attr[kk] = nil end; for kk, vv in pairs(x.attr) do m.attr[kk] = vv end end
  last = m
  mutate_sessions()
  local origin, ip = pick({ "c2s", "c2s", "s2s" }), pick({ "127.0.0.1", "127.0.0.2" })
  local to = (R(10) == 1) and "bob@h" or nil
  local full, full_asked = cache_key(m, origin, ip, to, nil)
  local holder = pick(holders)
  local got, got_asked = cache_key(m, origin, ip, to, holder)
  local ok = full == got
  if ok and got then
    for r, s in pairs(user.sessions) do if got_asked[r] ~= s then ok = false end end
    for r, s in pairs(got_asked) do if user.sessions[r] ~= s then ok = false end end
  end
  if not ok then
    bad = bad + 1
    if bad <= 5 then print("MISMATCH", i, tostring(m), "\n full:", full and full:gsub("%c", "|"), "\n got: ", got and got:gsub("%c", "|")) end
  end
end
print(("runs %d mismatches %d hits %d"):format(runs, bad, fast_hits))
