-- mod_cordon_guard: Cordon's central check inside Prosody 0.12 (Cordon issue 17).
--
-- Every message about to be delivered to a user of this host is held and Cordon's guard component
-- is asked what to do with it; the module only applies the answer:
--   deliver  the message goes on with the children the guard wrote (the label re-encoded with the
--            policy's marking); its addresses stay the ones Prosody routed it with
--   refuse   the error the guard built (nothing of the message in it) goes back to the sender
--   drop     nothing is delivered and nobody is told
-- Every decision is Cordon's (packages/guard); nothing here reads a label. The question travels
-- over the guard's XEP-0114 link as an IQ from this host (protocol: packages/guard/README.md).
--
-- Where: `message/bare` and `message/full` on the recipient's host at priority 1000, before
-- blocking and privacy (500), MAM (0), carbons (-0.5), delivery and offline storage (-1): a
-- message refused here is neither delivered, archived for the recipient, copied nor stored offline.
-- A message to another domain (s2s, a component) is asked about on its way out instead, in
-- `pre-message/*` (below: "Messages to another domain").
-- Waiting: a message is held and fired again once decided; its question goes at once, so a
-- session's next messages are asked about while the guard decides (pipelining), and each
-- session's checked messages go on in the order they came (at most 32 in flight per session, then
-- that session's runner waits). docs/performance.md §4 has the measurements behind this.
-- Fail closed: no answer within `cordon_guard_timeout` seconds, or the guard not connected, refuses
-- the message with a `wait` error (unless `cordon_guard_unlabelled_when_down = "deliver"` and the
-- message carries no label). Prosody routes to the guard again as soon as it reconnects.
local st = require "util.stanza";
-- (Globals read per message, as locals: a module's global is a miss in its environment, then _G.)
local pairs, ipairs, next, type, setmetatable, prosody = pairs, ipairs, next, type, setmetatable, prosody;
local datetime = require "util.datetime";
local async = require "util.async";
local new_id = require "util.id".short;
local jid_split = require "util.jid".split;
local jid_bare = require "util.jid".bare;
local filters = require "util.filters";

local NS_GUARD = "urn:cordon:guard:0";
local NS_CLIENT = "jabber:client";
local NS_LABELS = "urn:xmpp:sec-label:0";
local NS_CAPS = "http://jabber.org/protocol/caps";
local NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";
local NS_CARBONS = "urn:xmpp:carbons:2";
local NS_FORWARD = "urn:xmpp:forward:0";

local guard = module:get_option_string("cordon_guard_component", "guard." .. module.host);
local timeout = module:get_option_number("cordon_guard_timeout", 2);
-- Components whose messages were decided by Cordon already (its MUC and relay).
local trusted = module:get_option_set("cordon_guard_trusted_components", {});
local deliver_unlabelled_when_down = module:get_option_string("cordon_guard_unlabelled_when_down", "refuse") == "deliver";

-- Messages this module let through (and fires again): weak, so a delivered message is forgotten.
local decided = setmetatable({}, { __mode = "k" });
-- What each session of the recipient gets of a delivered message (the guard's answer, per
-- resource: "label", "flot" or "none") and its FLOT form: applied as each session is sent it.
local session_forms = setmetatable({}, { __mode = "k" });
-- A message delivered from the verdict cache carries its forms itself, in the field `cordon_forms`
-- of its own table (no entry in the weak tables above: an ephemeron entry per message cost the
-- collector more than the field). No stanza Prosody parses or loads has fields besides name, attr,
-- tags (and namespaces), and st.clone copies none: a copy is not decided, as with `decided`.
local function forms_of(stanza) return stanza.cordon_forms or session_forms[stanza]; end
local function is_decided(stanza) return stanza.cordon_forms ~= nil or decided[stanza] ~= nil; end

-- Questions to the guard waiting for their answer, by IQ id (RFC 6120 §8.2.3: the answer carries
-- the question's id). Not module:send_iq: a promise, two event hooks and a timer per question cost
-- Prosody's single thread more than the rest of the check (docs/performance.md §4). Here one hook
-- takes every answer, and one repeating timer ends the questions past `timeout` in the order they
-- were asked (they all have the same timeout).
local waiting = {}; -- id → callback(answer stanza | nil, err)
local served_from_cache = 0; -- messages delivered from the verdict cache since the last report
local TICK = 0.25;
local due = {};     -- tick number → ids asked whose deadline falls in it
local swept = nil;  -- the last tick swept
local now = require "util.time".now;
local floor = math.floor;

-- The guard's XEP-0114 session on this server, while it is connected (mod_component's own).
local get_module = require "core.modulemanager".get_module;
local function guard_session()
	local component = get_module(guard, "component");
	return component and component.connected and component.session or nil;
end
local NOT_CONNECTED = { type = "wait", condition = "internal-server-error" };

-- Asks the guard; `callback(answer)` with the IQ result or error (an error also when Prosody bounces
-- the question because the guard is not connected), or `callback(nil, err)` after `timeout`.
-- `request`: a stanza (routed), or { id, xml } — a question written as text straight onto the
-- guard's component stream (check_request: no stanza built, routed and serialised per message).
local unloading = false; -- (this instance is being unloaded: module.unload, at the end)
local function ask(request, callback)
	if unloading then return callback(nil, NOT_CONNECTED); end
	local id = request.id or request.attr.id;
	if request.xml then
		local session = guard_session();
		if not session then return callback(nil, NOT_CONNECTED); end
	end
	waiting[id] = callback;
	local tick = floor((now() + timeout) / TICK) + 1; -- never before the deadline
	local ids = due[tick];
	if not ids then ids = {}; due[tick] = ids; end
	ids[#ids + 1] = id;
	if request.xml then guard_session().send(request.xml); else module:send(request); end
end

-- Inside a session's async runner: waits for the answer (only this session waits).
local function ask_wait(request)
	local wait, done = async.waiter();
	local answer, failure;
	ask(request, function (a, e) answer, failure = a, e; done(); end);
	wait();
	return answer, failure;
end

module:hook("iq/host", function (event)
	local stanza = event.stanza;
	if stanza.attr.from ~= guard then return; end
	local callback = waiting[stanza.attr.id];
	if not callback or (stanza.attr.type ~= "result" and stanza.attr.type ~= "error") then return; end
	waiting[stanza.attr.id] = nil;
	callback(stanza);
	return true;
end, 2000);

local TIMED_OUT = { type = "wait", condition = "remote-server-timeout" };
module:add_timer(TICK, function ()
	local last = floor(now() / TICK);
	for tick = (swept or last - 1) + 1, last do
		local ids = due[tick];
		due[tick] = nil;
		for _, id in ipairs(ids or {}) do
			local callback = waiting[id];
			if callback then
				waiting[id] = nil;
				local ok, err = pcall(callback, nil, TIMED_OUT);
				if not ok then module:log("error", "Cordon guard timeout handling failed: %s", err); end
			end
		end
	end
	swept = last;
	return TICK;
end);

-- The sender is told the check could not be made: the condition and type only, no text, and the id
-- only when short (RFC 6120 §8.3: an error carries nothing the sender chose beyond its id).
local function refuse_unchecked(stanza, err)
	if stanza.attr.type == "error" then return; end
	-- Always `wait`: the message was not judged, it may go through later.
	local condition = err and err.condition == "remote-server-timeout" and "remote-server-timeout" or "internal-server-error";
	local reply = st.error_reply(stanza, "wait", condition);
	if reply.attr.id and #reply.attr.id > 128 then reply.attr.id = nil; end
	module:send(reply);
end

-- Whether a message may carry a label anywhere (what the guard would read or refuse as hidden
-- content: a <securitylabel/> at any depth or with a prefix, an embedded stanza or XEP-0297
-- <forwarded/>, nesting deeper than the guard reads). Only a message that cannot is "unlabelled"
-- when Cordon is down: a label below the top level must not make a message pass unchecked.
local MAX_DEPTH = 60;
local EMBEDDED = { message = true, presence = true, iq = true, forwarded = true, securitylabel = true };
local function may_carry_label(el, depth)
	for _, child in ipairs(el.tags) do
		if depth >= MAX_DEPTH or child.name:find(":", 1, true) or EMBEDDED[child.name] then return true; end
		if may_carry_label(child, depth + 1) then return true; end
	end
	return false;
end

-- `answered`: the guard itself answered without a decision (an error answer, e.g. resource-constraint
-- when the sender has too many checks in progress, or an unusable verdict). Cordon is up then: the
-- `cordon_guard_unlabelled_when_down` switch is for Cordon down (not connected, timeout) only —
-- otherwise a sender could skip the check at will by sending faster than the guard's per-sender bound.
local function unreachable(event, err, answered)
	-- The guard refused the question itself as too large (its component's stanza bound): no later
	-- try can succeed, so the sender is told at once (RFC 6120 §8.3.3.12), with nothing of it.
	if err and err.condition == "policy-violation" then
		if event.stanza.attr.type ~= "error" then
			local reply = st.error_reply(event.stanza, "modify", "policy-violation");
			if reply.attr.id and #reply.attr.id > 128 then reply.attr.id = nil; end
			module:send(reply);
		end
		return true;
	end
	if deliver_unlabelled_when_down and not answered and not unloading and not may_carry_label(event.stanza, 0) then
		decided[event.stanza] = true;
		return nil;
	end
	module:log("warn", "Cordon guard %s gave no decision (%s): message refused", guard, err and err.condition or "?");
	refuse_unchecked(event.stanza, err);
	return true;
end

-- The verdict's message was parsed inside the component stream, so each of its children carries an
-- explicit xmlns='jabber:client'; Prosody's lookups (st:get_child("body") in mod_mam, mod_carbons,
-- mod_offline...) compare against the parent's attr.xmlns (nil for a stanza), so such a body is not
-- seen: the delivered message would not be archived or carbon-copied. An xmlns equal to the parent's
-- namespace is dropped (same XML, as Prosody's own parser writes it).
local function inherit_ns(el, ns)
	for _, child in ipairs(el.tags) do
		local own = child.attr.xmlns or ns;
		if child.attr.xmlns == ns then child.attr.xmlns = nil; end
		inherit_ns(child, own);
	end
	return el;
end

local stanza_mt = st.stanza_mt;
-- A new top element (its own attributes and child lists) over a stanza's children, which are
-- only serialised: no deep copy of a large message (a question's message, a session's FLOT form).
local function shallow(stanza)
	local attr = {};
	for k, v in pairs(stanza.attr) do attr[k] = v; end
	local tags = {};
	for i, tag in ipairs(stanza.tags) do tags[i] = tag; end
	local copy = setmetatable({ name = stanza.name, attr = attr, tags = tags }, stanza_mt);
	for i = 1, #stanza do copy[i] = stanza[i]; end
	return copy;
end

-- The message as the guard decided it must be delivered: the verdict's <message/>; or, in a
-- compact verdict (keep='1', asked for with compact='1'), the message asked about — the very
-- children the guard judged, not sent back — with each of its top-level XEP-0258 labels replaced
-- by the verdict's <securitylabel/> children (re-encoded by the guard from the decided label with
-- the policy's marking: the sender's label bytes never go on; none for an error message).
-- (compact='2': the one label comes as XML text in the verdict's `label` attribute; each distinct
-- text is parsed once — it is the guard's own rendering of a decided label — and each message
-- gets its own copy.)
local xml_parse = require "util.xml".parse;
local label_cache = require "util.cache".new(256);
local MAX_CACHED_LABEL = 8192; -- bytes of label text kept per entry: the cache stays under 2 MiB
local function label_from(text)
	local label = label_cache:get(text);
	if not label then
		label = xml_parse(text);
		if not label or label.name ~= "securitylabel" or label.attr.xmlns ~= NS_LABELS then return nil; end
		inherit_ns(label, NS_LABELS);
		if #text <= MAX_CACHED_LABEL then label_cache:set(text, label); end
	end
	return st.clone(label);
end

local function delivered_form(verdict, stanza)
	if verdict.attr.keep ~= "1" then
		local out = verdict:get_child("message", NS_CLIENT);
		return out and inherit_ns(out, NS_CLIENT);
	end
	local text = verdict.attr.label;
	local label = text and label_from(text);
	if text and not label then return nil; end -- no decision (fail closed)
	local out = setmetatable({ name = stanza.name, attr = stanza.attr, tags = {} }, stanza_mt);
	local tags = out.tags;
	for _, child in ipairs(stanza) do
		if type(child) ~= "table" then
			out[#out + 1] = child;
		elseif not (child.name == "securitylabel" and child.attr.xmlns == NS_LABELS) then
			out[#out + 1] = child;
			tags[#tags + 1] = child;
		end
	end
	for l in verdict:childtags("securitylabel", NS_LABELS) do
		inherit_ns(l, NS_LABELS);
		out[#out + 1] = l;
		tags[#tags + 1] = l;
	end
	if label then
		out[#out + 1] = label;
		tags[#tags + 1] = label;
	end
	return out;
end

-- The FLOT form from the verdict's <flot/>: its whole <message/>; or (keep='1') the delivered
-- message with each replacement, in order, in the place of the next top-level child in the
-- stanza's namespace of the same name. nil: none, or one that cannot be made (no decision).
local function flot_form(verdict, delivered)
	local flot = verdict:get_child("flot", NS_GUARD);
	if not flot then return nil, true; end
	if flot.attr.keep ~= "1" then
		local whole = flot:get_child("message", NS_CLIENT);
		if not whole then return nil, false; end
		return inherit_ns(whole, NS_CLIENT), true;
	end
	local replacements = {};
	for _, r in ipairs(flot.tags) do
		if r.attr.xmlns ~= NS_CLIENT then return nil, false; end
		r.attr.xmlns = nil;
		replacements[#replacements + 1] = inherit_ns(r, NS_CLIENT);
	end
	local out = setmetatable({ name = delivered.name, attr = delivered.attr, tags = {} }, stanza_mt);
	local tags, k = out.tags, 1;
	for _, child in ipairs(delivered) do
		local r = replacements[k];
		if type(child) == "table" and r and (child.attr.xmlns == nil or child.attr.xmlns == NS_CLIENT) and child.name == r.name then
			child = r;
			k = k + 1;
		end
		out[#out + 1] = child;
		if type(child) == "table" then tags[#tags + 1] = child; end
	end
	if k ~= #replacements + 1 then return nil, false; end
	return out, true;
end

local keep_verdict; -- (the verdict cache, below)

-- Applies the guard's answer. Returns true when the message must go no further, nil when it goes
-- on (as event.stanza, rewritten).
local function apply(event, response)
	-- An error answer (the guard refusing the question, or Prosody bouncing it while the guard is
	-- not connected: the question comes back as an error) is no decision: refused with `wait`.
	if response.attr.type ~= "result" then
		local _, condition = response:get_error();
		return unreachable(event, { type = "wait", condition = condition == "policy-violation" and condition or "internal-server-error" }, true);
	end
	local verdict = response:get_child("verdict", NS_GUARD);
	local action = verdict and verdict.attr.action;
	if action == "deliver" then
		local out = delivered_form(verdict, event.stanza);
		if out then
			out.attr = event.stanza.attr;
			decided[out] = true;
			local forms;
			for session in verdict:childtags("session", NS_GUARD) do
				-- `asked`: the session each resource named when the guard was asked (form_for).
				forms = forms or { by = {}, asked = event.cordon_asked or {} };
				forms.by[session.attr.resource or ""] = session.attr.form;
			end
			if forms then
				local flot, ok = flot_form(verdict, out);
				if not ok then return unreachable(event, { type = "wait", condition = "internal-server-error" }, true); end
				forms.flot = flot;
				session_forms[out] = forms;
				event.cordon_forms = forms; -- for the copy a later handler may hand on (forms_follow)
				if event.cordon_cache_key then keep_verdict(event.cordon_cache_key, verdict, forms); end
			elseif event.cordon_asked and next(event.cordon_asked) == nil then
				-- Decided for a recipient with no session (to be stored offline): one that bound
				-- meanwhile was never judged (its location, client-location.ts): try again later.
				local user = prosody.bare_sessions[jid_bare(out.attr.to or "")];
				if user and next(user.sessions) then
					refuse_unchecked(event.stanza, nil);
					return true;
				end
			end
			event.stanza = out;
			return nil;
		end
	elseif action == "refuse" then
		local reply = verdict:get_child("message", NS_CLIENT);
		if reply then
			reply.attr.xmlns = nil;
			module:send(reply);
			return true;
		end
	elseif action == "drop" then
		return true;
	end
	return unreachable(event, { type = "wait", condition = "internal-server-error" }, true);
end

-- Issue 17, inbound across the relay: a message one of the trusted components delivers to a user
-- of this host is asked about with origin='component' — the guard decides only each recipient
-- session's client location on the label the component put (packages/guard/src/
-- component-delivery.ts), so that a session at a site its label is not granted gets nothing of what
-- Cordon's relay brings from a peer domain. Not asked: a component listed in
-- `cordon_guard_inbound_unasked`, one that locates the recipient's sessions itself (Cordon's MUC:
-- packages/muc/src/security/occupant-location.ts). Presences and IQs from trusted components stay
-- unasked (origin_of).
local inbound_unasked = module:get_option_set("cordon_guard_inbound_unasked", {});
local function located_by_module(host)
	return trusted:contains(host) and not inbound_unasked:contains(host);
end

local origin_of;
-- The origin a message to a user of this host is asked about with (nil: not asked).
-- (An error message that can carry no label — the relay's carry their addressing and condition
-- alone — has nothing to locate: not asked, as on ejabberd.)
local function delivery_origin(origin, stanza)
	if origin.type == "component" and trusted:contains(origin.host) then
		if not located_by_module(origin.host) or (stanza.attr.type == "error" and not may_carry_label(stanza, 0)) then return nil; end
		return "component";
	end
	return origin_of(origin);
end

function origin_of(origin)
	if origin.type == "c2s" then return "c2s"; end
	if origin.type == "s2sin" then return "s2s"; end
	if origin.type == "component" then
		if trusted:contains(origin.host) then return nil; end
		return "s2s"; -- any other component is judged as another domain (its peer clearance)
	end
	return nil; -- generated by the server itself (PEP, server messages): not checked
end

-- The question about `stanza`: the sending session's address (a local client) and each session of
-- the recipient — its resource, address and whether its client advertised XEP-0258 labels.
-- `only_session`: a stored message replayed to that session at login (offline='1').
-- `to`: where the message goes (Prosody removes the `to` of a message a client sends to its own
-- account, RFC 6120 §10.3). `copies`: the sender's other sessions about to get a sent carbon.
-- `outbound`: a message leaving for another domain (outbound_checker below: 'peer' or 'component').
local xml_escape = st.xml_escape;
local function attr(name, value)
	if value == nil then return ""; end
	return " " .. name .. "='" .. xml_escape(value) .. "'";
end
local function session_el(name, resource, session)
	return "<" .. name .. attr("resource", resource) .. attr("ip", session.ip) .. (session.cordon_labels and " labels='1'/>" or " labels='0'/>");
end

-- Also returns the session each listed resource is (a resource names a session only until it ends).
-- `refresh`: asked ahead of a kept verdict's end (refresh_ahead; the guard counts it apart).
local function check_request(stanza, origin_kind, sender_ip, only_session, to, copies, outbound, refresh)
	local embedded = shallow(stanza);
	embedded.attr.xmlns = NS_CLIENT;
	embedded.attr.to = embedded.attr.to or to;
	local id = new_id();
	local asked = setmetatable({}, { __mode = "v" }); -- an ended session is not kept for this
	local xml = {
		"<iq type='get'", attr("from", module.host), attr("to", guard), attr("id", id),
		"><check xmlns='", NS_GUARD, "'", attr("origin", origin_kind), attr("ip", sender_ip),
		only_session and " offline='1'" or "", attr("outbound", outbound), refresh and " refresh='1'" or "",
		" compact='2'>", tostring(embedded),
	};
	for _, session in ipairs(copies or {}) do xml[#xml + 1] = session_el("copy", session.resource, session); end
	if not copies then -- (a sent-carbon question: the recipient is judged on delivery)
		local user = prosody.bare_sessions[jid_bare(embedded.attr.to or "")];
		for resource, session in pairs(user and user.sessions or {}) do
			if not only_session or session == only_session then
				asked[resource] = session;
				xml[#xml + 1] = session_el("session", resource, session);
			end
		end
	end
	xml[#xml + 1] = "</check></iq>";
	return { id = id, xml = table.concat(xml) }, asked;
end

-- The account a client's message to itself goes to (its `to` removed by Prosody).
local function own_account(event)
	local origin = event.origin;
	if event.to_self and origin.type == "c2s" and origin.username then return origin.username .. "@" .. origin.host; end
	return nil;
end

-- The verdict cache (packages/guard/src/verdict-cache.ts; docs/performance.md §4): a verdict the
-- guard marked cacheable (`cache='1'`) is reused, for `cordon_guard_cache_seconds`, for a message
-- whose question would be identical — same origin, sender (full JID) and sending address,
-- recipient address, type, xml:lang, the recipient's sessions (resource, address, labels in caps),
-- and shape: each top-level child's namespace, name and attributes, the label's exact bytes or
-- none. Only a message whose children are all ones that cannot carry labelled content (a body, a
-- thread, a chat state, a receipt request, an origin-id, with no element below them) and at most
-- one label has a key; any other is always asked about. Cordon still made the decision: the
-- cached verdict is applied as its template — the guard's label in place of the new message's,
-- each body of the FLOT form the new body after the guard's `<prefix/>`, each session's form as
-- the guard said. Refusals are not cached.
-- Invalidation: the guard tells this host its cache epoch (an IQ, at once when a clearance,
-- a policy or its configuration changes, and each time it connects); a different epoch or a new
-- guard session drops everything; a verdict is kept only when decided in the epoch last told, on
-- the guard session connected now; nothing is used while the guard is not connected.
-- Bounded: at most MAX_CACHED verdicts and MAX_CACHE_BYTES of keys and templates.
local cache_ttl = module:get_option_number("cordon_guard_cache_seconds", 2);
-- Expiry on the monotonic clock: the wall clock set back (NTP, an operator) must not keep a verdict longer.
local monotonic = require "util.time".monotonic;
local MAX_CACHED = 4096;
local MAX_CACHE_BYTES = 2 * 1024 * 1024;
local new_cache = require "util.cache".new;
local NS_CHAT_STATES = "http://jabber.org/protocol/chatstates";
-- The top-level children a cacheable message may have (besides its label): the attributes each may carry.
local CACHEABLE = {
	[NS_CLIENT] = { body = { "xml:lang" }, thread = { "parent" } },
	[NS_CHAT_STATES] = { active = {}, composing = {}, paused = {}, inactive = {}, gone = {} },
	["urn:xmpp:receipts"] = { request = {} },
	["urn:xmpp:sid:0"] = { ["origin-id"] = { "id" } },
};
-- Attributes whose value nothing decided reads: in the key as present or absent only, so that a
-- client giving each message its own XEP-0359 origin-id (most do) still hits the cache.
local ANY_VALUE = { ["urn:xmpp:sid:0"] = { ["origin-id"] = { id = true } } };
local MESSAGE_ATTRS = { xmlns = true, from = true, to = true, id = true, type = true, ["xml:lang"] = true };
-- (CACHEABLE's attribute lists as sets, with xmlns: what cache_key looks each attribute up in.)
local CACHEABLE_ATTRS = {};
for ns, names in pairs(CACHEABLE) do
	CACHEABLE_ATTRS[ns] = {};
	for name, list in pairs(names) do
		local set = { xmlns = true };
		for _, a in ipairs(list) do set[a] = true; end
		CACHEABLE_ATTRS[ns][name] = set;
	end
end
local CACHEABLE_TYPES = { chat = true, normal = true, headline = true };

local verdicts, cache_bytes;
local cache_epoch, epoch_session = nil, nil; -- the epoch the guard last told, on which of its sessions
-- (`gen`, `gone`: whether an entry a sending session remembers — cached_verdict — is still kept.
-- The generation is a table of its own per forgetting, not a count: the sessions, and the entries
-- they remember, outlive a reload of this module, whose count would start again where the old
-- instance's did — an entry of the old instance then passed as kept in the new one: used on a new
-- guard session, or subtracted from a byte count it was never in (guard-cache-attack3 RE6).)
local verdicts_gen;
local function forget_verdicts()
	cache_bytes = 0;
	verdicts_gen = {};
	verdicts = new_cache(MAX_CACHED, function (_, entry) entry.gone = true; cache_bytes = cache_bytes - entry.bytes; end);
end
forget_verdicts();

module:hook("iq-set/host/" .. NS_GUARD .. ":epoch", function (event)
	local stanza, origin = event.stanza, event.origin;
	if stanza.attr.from ~= guard or origin.type ~= "component" or origin.host ~= guard then return; end
	local n = stanza.tags[1].attr.n;
	local session = guard_session();
	if n ~= cache_epoch or session ~= epoch_session then forget_verdicts(); end
	cache_epoch, epoch_session = n, session;
	origin.send(st.reply(stanza));
	return true;
end);

-- The session's address (packages/guard/README.md "The session's address"; Cordon issue 17):
--   <iq type='get' to='HOST'><session xmlns='urn:cordon:guard:0' jid='user@HOST/resource'/></iq>
-- answered <session jid='…' ip='…'/> (no `ip` when Prosody has none for it), or item-not-found
-- when this host has no such session. Only the guard and Cordon's trusted components
-- (`cordon_guard_trusted_components`: its catalog, which applies the guard's client-location rule
-- to the session asking it) may ask — from their own component session; anyone else (a user, a
-- remote server, another component) gets `forbidden`: an address is never told to them. The
-- asker must be the component's domain itself, as ejabberd's module requires: a component may send
-- from any JID of its domain (a trusted MUC sends as room@rooms/nick on its occupants' behalf, and
-- a MUC that forwards occupants' IQs would send theirs so) — never the component asking (adv16b).
local MAX_JID = 3071; -- RFC 7622 §3.1: a JID is at most 3071 bytes
local jid_prep = require "util.jid".prep;
-- Whether the asker may be told where sessions are: the guard or a trusted component, from its
-- component session and as the component's domain itself; else it is answered `forbidden`.
local function may_ask_sessions(stanza, origin)
	local asker = type(stanza.attr.from) == "string" and #stanza.attr.from <= MAX_JID and jid_prep(stanza.attr.from) or nil;
	if origin.type ~= "component" or asker ~= origin.host or not (origin.host == guard or trusted:contains(origin.host)) then
		origin.send(st.error_reply(stanza, "auth", "forbidden"));
		return false;
	end
	return true;
end
module:hook("iq-get/host/" .. NS_GUARD .. ":session", function (event)
	local stanza, origin = event.stanza, event.origin;
	if not may_ask_sessions(stanza, origin) then return true; end
	local asked = stanza.tags[1].attr.jid;
	local full = type(asked) == "string" and #asked <= MAX_JID and jid_prep(asked) or nil;
	local node, host, resource = jid_split(full);
	local session = node and resource and host == module.host and prosody.full_sessions[full] or nil;
	if not session or session.host ~= module.host then
		origin.send(st.error_reply(stanza, "cancel", "item-not-found"));
		return true;
	end
	origin.send(st.reply(stanza):tag("session", { xmlns = NS_GUARD, jid = full, ip = session.ip }));
	return true;
end);

-- A user's sessions (packages/guard/README.md "The session's address"; Cordon issue 17: the label
-- catalog offers toward a user only what the guard lets through to the sessions it would be asked
-- about — the recipient-location rule):
--   <iq type='get' to='HOST'><sessions xmlns='urn:cordon:guard:0' jid='user@HOST'/></iq>
-- answered <sessions jid='…'><session resource='…' ip='…'/>…</sessions> — every session of the
-- user, as a check lists them (none: offline) — or resource-constraint past MAX_LISTED_SESSIONS
-- (the catalog then offers nothing labelled), bad-request for anything but a bare JID of this host.
-- The same askers as <session/>; anyone else gets `forbidden`, nothing told.
local MAX_LISTED_SESSIONS = 64;
module:hook("iq-get/host/" .. NS_GUARD .. ":sessions", function (event)
	local stanza, origin = event.stanza, event.origin;
	if not may_ask_sessions(stanza, origin) then return true; end
	local asked = stanza.tags[1].attr.jid;
	local bare = type(asked) == "string" and #asked <= MAX_JID and jid_prep(asked) or nil;
	local node, host, resource = jid_split(bare);
	if not node or resource or host ~= module.host then
		origin.send(st.error_reply(stanza, "modify", "bad-request"));
		return true;
	end
	local reply = st.reply(stanza):tag("sessions", { xmlns = NS_GUARD, jid = bare });
	local user, n = prosody.bare_sessions[bare], 0;
	for r, session in pairs(user and user.sessions or {}) do
		n = n + 1;
		if n > MAX_LISTED_SESSIONS then
			origin.send(st.error_reply(stanza, "wait", "resource-constraint"));
			return true;
		end
		reply:tag("session", { resource = r, ip = session.ip }):up();
	end
	origin.send(reply);
	return true;
end);

-- The key is built from the strings the stanza and the sessions hold already (one scratch list, one
-- concatenation — none when the parts are the sending session's last key's: cache_key —, nothing
-- serialised per message: Prosody collects garbage at a 105 % pause, so every byte a hook
-- allocates costs it several times over; docs/performance.md §4). Parts are separated by U+0001; an
-- element of the label opens with U+0004 (then its name, namespace or U+0007, and attributes), closes with
-- U+0005, a text node starts with U+0006: no XML name, attribute value or text holds U+0001–U+0008
-- (XML 1.0 §2.2), so the parts cannot be confused and two keys are equal only for the same label
-- tree. A message whose key would take more than MAX_KEY_PARTS parts (a large label, many
-- sessions) is not cacheable: it is asked about every time.
local MAX_KEY_PARTS = 512;
local key_parts = {};
local WEAK_VALUES = { __mode = "v" };

local function label_parts(el, n)
	if n > MAX_KEY_PARTS then return n; end
	-- (U+0007: no xmlns attribute — the parent's namespace —, which an empty xmlns='' is not.)
	key_parts[n + 1], key_parts[n + 2], key_parts[n + 3] = "\4", el.name, el.attr.xmlns or "\7";
	n = n + 3;
	for k, v in pairs(el.attr) do
		-- (Prosody names a namespaced attribute "uri" .. U+0001 .. "name": no key for such a label —
		-- its parts could line up with another's. The guard refuses prefixed names anyway.)
		if k:find("\1", 1, true) then return MAX_KEY_PARTS + 1; end
		if k ~= "xmlns" then key_parts[n + 1], key_parts[n + 2] = k, v; n = n + 2; end
	end
	for _, child in ipairs(el) do
		if type(child) == "table" then
			n = label_parts(child, n);
		else
			key_parts[n + 1], key_parts[n + 2] = "\6", child;
			n = n + 2;
		end
		if n > MAX_KEY_PARTS then return n; end
	end
	key_parts[n + 1] = "\5";
	return n + 1;
end

-- The sending session's last key again (cache_key's fast path, issue 17 one-to-one cost): walks
-- `stanza` in the very order cache_key writes its parts, comparing each with the part the last key
-- had at that place instead of writing it — true only when every part is the same string, there are
-- as many, the recipient's sessions are the very same session objects, and every check cache_key
-- makes passes (cacheable type and children, known attributes). Anything else: false, and cache_key
-- builds the key as before. No C call but `next` for the attribute sets (each a set whose names must
-- be enumerated): no ipairs, no type(), no string.find — a name equal to the last key's part passed
-- that key's checks (no part holds U+0001: XML 1.0 §2.2), and `child.name` tells an element from a
-- text as util.stanza's own serialiser does. (Per message a C call costs Prosody's Lua ≈ 400
-- instructions, a table lookup ≈ 60: bench/one-to-one-callgrind.mjs, docs/performance.md §4.)
local function label_same(el, n, mp)
	local attrs = el.attr;
	if mp[n + 1] ~= "\4" or mp[n + 2] ~= el.name or mp[n + 3] ~= (attrs.xmlns or "\7") then return nil; end
	n = n + 3;
	for k, v in next, attrs do
		if k ~= "xmlns" then
			if mp[n + 1] ~= k or mp[n + 2] ~= v then return nil; end
			n = n + 2;
		end
	end
	for i = 1, #el do
		local child = el[i];
		if child.name then
			n = label_same(child, n, mp);
			if not n then return nil; end
		else
			if mp[n + 1] ~= "\6" or mp[n + 2] ~= child then return nil; end
			n = n + 2;
		end
	end
	if mp[n + 1] ~= "\5" then return nil; end
	return n + 1;
end

local function same_as_memo(stanza, origin_kind, sender_ip, to, memo)
	local mp = memo.parts;
	local attrs = stanza.attr;
	local mtype = attrs.type;
	to = to or attrs.to;
	if mp[1] ~= origin_kind or mp[2] ~= (attrs.from or "") or mp[3] ~= (sender_ip or "") or mp[4] ~= to
		or mp[5] ~= (mtype or "") or mp[6] ~= (attrs["xml:lang"] or "") then return false; end
	if mtype ~= nil and not CACHEABLE_TYPES[mtype] then return false; end
	for k in next, attrs do if not MESSAGE_ATTRS[k] then return false; end end
	local user = prosody.bare_sessions[memo.bare];
	if not user or user ~= memo.user then return false; end
	local n, labels = 6, 0;
	local tags = stanza.tags;
	for i = 1, #tags do
		local child = tags[i];
		local child_attr, name = child.attr, child.name;
		local ns = child_attr.xmlns or NS_CLIENT;
		if name == "securitylabel" and ns == NS_LABELS then
			labels = labels + 1;
			if labels > 1 then return false; end
			n = label_same(child, n, mp);
			if not n then return false; end
		else
			local in_ns = CACHEABLE[ns];
			local allowed = in_ns and in_ns[name];
			if not allowed or #child.tags > 0 then return false; end
			local allowed_set = CACHEABLE_ATTRS[ns][name];
			for k in next, child_attr do
				if not allowed_set[k] then return false; end
			end
			if mp[n + 1] ~= ns or mp[n + 2] ~= name then return false; end
			n = n + 2;
			local any = ANY_VALUE[ns];
			any = any and any[name];
			for j = 1, #allowed do
				local a = allowed[j];
				local v = child_attr[a];
				if v and any and any[a] then v = "\3"; end
				n = n + 1;
				if mp[n] ~= (v or "\2") then return false; end
			end
		end
		if n > MAX_KEY_PARTS then return false; end
	end
	-- The recipient's sessions: the very same objects, each with the address and caps of the key
	-- (in cache_key's order: by resource, sorted, as the last key was built).
	local sessions = user.sessions;
	local asked = memo.asked;
	local count = 0;
	for resource, session in next, sessions do
		if asked[resource] ~= session then return false; end
		count = count + 1;
	end
	if count ~= memo.count then return false; end
	local resources = memo.resources;
	for j = 1, count do
		local resource = resources[j];
		local session = sessions[resource];
		if mp[n + 1] ~= resource or mp[n + 2] ~= (session.ip or "") or mp[n + 3] ~= (session.cordon_labels and "1" or "0") then return false; end
		n = n + 3;
	end
	return n == memo.n;
end

-- The key of `stanza`'s question and the recipient's sessions by resource, or nil: not cacheable.
-- `holder`: the sending session, which keeps the parts of its last key (`cordon_key_memo`): when
-- every part of this message's key is the same string, and the recipient's sessions the very same
-- session objects, the key is that one — the same string table.concat would make, not made again
-- (nor the table of sessions asked): a sender writing to one peer makes no key per message.
-- (Per message: numeric loops, not ipairs — a C call per step —, and set lookups.)
local function cache_key(stanza, origin_kind, sender_ip, to, holder)
	local memo = holder and holder.cordon_key_memo;
	if memo and same_as_memo(stanza, origin_kind, sender_ip, to, memo) then return memo.key, memo.asked; end
	local attrs = stanza.attr;
	local mtype = attrs.type;
	if mtype ~= nil and not CACHEABLE_TYPES[mtype] then return nil; end
	for k in pairs(attrs) do if not MESSAGE_ATTRS[k] then return nil; end end
	to = to or attrs.to;
	if not to then return nil; end
	-- (A bare address is its own bare JID: no split and join per message.)
	local bare = to:find("/", 1, true) and jid_bare(to) or to;
	local user = prosody.bare_sessions[bare];
	if not user or not next(user.sessions) then return nil; end
	local parts = key_parts;
	parts[1], parts[2], parts[3], parts[4], parts[5], parts[6] =
		origin_kind, attrs.from or "", sender_ip or "", to, mtype or "", attrs["xml:lang"] or "";
	local n, labels = 6, 0;
	local tags = stanza.tags;
	for i = 1, #tags do
		local child = tags[i];
		local child_attr, name = child.attr, child.name;
		local ns = child_attr.xmlns or NS_CLIENT;
		if name == "securitylabel" and ns == NS_LABELS then
			labels = labels + 1;
			if labels > 1 then return nil; end
			n = label_parts(child, n);
		else
			local in_ns = CACHEABLE[ns];
			local allowed = in_ns and in_ns[name];
			if not allowed or #child.tags > 0 then return nil; end
			local allowed_set = CACHEABLE_ATTRS[ns][name];
			for k in pairs(child_attr) do
				if not allowed_set[k] then return nil; end
			end
			parts[n + 1], parts[n + 2] = ns, name;
			n = n + 2;
			local any = ANY_VALUE[ns];
			any = any and any[name];
			for j = 1, #allowed do
				local a = allowed[j];
				local v = child_attr[a];
				if v and any and any[a] then v = "\3"; end
				n = n + 1;
				parts[n] = v or "\2";
			end
		end
		if n > MAX_KEY_PARTS then return nil; end
	end
	local sessions = user.sessions;
	local only = next(sessions);
	local count = 1;
	local resources;
	if next(sessions, only) == nil then
		local session = sessions[only];
		parts[n + 1], parts[n + 2], parts[n + 3] = only, session.ip or "", session.cordon_labels and "1" or "0";
		n = n + 3;
		resources = { only };
	else
		resources = {};
		for resource in pairs(sessions) do resources[#resources + 1] = resource; end
		table.sort(resources);
		count = #resources;
		for _, resource in ipairs(resources) do
			local session = sessions[resource];
			parts[n + 1], parts[n + 2], parts[n + 3] = resource, session.ip or "", session.cordon_labels and "1" or "0";
			n = n + 3;
			if n > MAX_KEY_PARTS then return nil; end
		end
	end
	if memo and memo.n == n and memo.count == count then
		local same, memo_parts, memo_asked = true, memo.parts, memo.asked;
		for i = 1, n do
			if memo_parts[i] ~= parts[i] then same = false; break; end
		end
		if same then
			-- (asked is weak: a session ended since is gone from it, and this is no match.)
			for resource, session in pairs(sessions) do
				if memo_asked[resource] ~= session then same = false; break; end
			end
		end
		if same then
			memo.bare, memo.user, memo.resources = bare, user, resources;
			return memo.key, memo_asked;
		end
	end
	local asked = setmetatable({}, WEAK_VALUES);
	for resource, session in pairs(sessions) do asked[resource] = session; end
	local key = table.concat(parts, "\1", 1, n);
	if holder then
		if not memo then memo = { parts = {} }; holder.cordon_key_memo = memo; end
		local memo_parts = memo.parts;
		for i = 1, n do memo_parts[i] = parts[i]; end
		for i = n + 1, #memo_parts do memo_parts[i] = nil; end
		memo.n, memo.count, memo.asked, memo.key = n, count, asked, key;
		memo.bare, memo.user, memo.resources = bare, user, resources;
	end
	return key, asked;
end

-- The verdict kept for `key`, when it may be used now. `memo`: the sending session's last key
-- (cache_key), which also remembers the entry found for it: while that entry is still the one kept
-- (not removed, evicted, replaced, nor the cache forgotten since), no lookup — every check below
-- is made all the same.
local function cached_verdict(key, memo)
	local entry = memo and memo.entry;
	if entry and (memo.entry_key ~= key or entry.gone or entry.gen ~= verdicts_gen) then
		entry = nil;
		memo.entry, memo.entry_key = nil, nil;
	end
	if not entry then
		entry = verdicts:get(key);
		if not entry then return nil; end
		if memo then memo.entry, memo.entry_key = entry, key; end
	end
	local session = guard_session();
	if entry.epoch ~= cache_epoch or session == nil or session ~= epoch_session or entry.expires < monotonic() then
		verdicts:set(key, nil);
		entry.gone = true;
		cache_bytes = cache_bytes - entry.bytes;
		return nil;
	end
	return entry;
end

-- Whether `verdict` may be kept: a compact deliver answer the guard marked cacheable, decided in
-- the epoch last told on the guard session connected now, with the FLOT form (if any) as a prefix.
local function keepable(verdict)
	if verdict == nil or verdict.attr.action ~= "deliver" or verdict.attr.cache ~= "1" or not verdict.attr.label then return false; end
	if verdict.attr.epoch ~= cache_epoch or epoch_session == nil or epoch_session ~= guard_session() then return false; end
	if verdict:get_child("session", NS_GUARD) == nil then return false; end
	return verdict:get_child("flot", NS_GUARD) == nil or verdict:get_child_text("prefix", NS_GUARD) ~= nil;
end

-- A kept verdict's shared label → that label serialised by Prosody (util.stanza), made once.
local label_xml = setmetatable({}, { __mode = "k" });

-- Keeps `verdict` (a cacheable compact deliver answer) for `key`, when decided in the epoch last told.
function keep_verdict(key, verdict, forms)
	if not keepable(verdict) then return; end
	local label = verdict.attr.label;
	local prefix = verdict:get_child_text("prefix", NS_GUARD);
	-- (The label kept parsed: counted at five times its text, what a tree of small tables takes.)
	local bytes = #key + 5 * #label + #(prefix or "") + 256;
	for resource in pairs(forms.by) do bytes = bytes + #resource + 64; end
	local old = verdicts:get(key);
	if old then verdicts:set(key, nil); old.gone = true; cache_bytes = cache_bytes - old.bytes; end
	if cache_bytes + bytes > MAX_CACHE_BYTES then forget_verdicts(); end
	if bytes > MAX_CACHE_BYTES then return; end
	-- The label element every message served from this entry carries: parsed once, then shared
	-- (copying it per message cost Prosody ≈ 89,000 instructions — bench/one-to-one-callgrind.mjs —
	-- most of it garbage collection). Nothing changes a delivered message's children in place:
	-- Prosody 0.12's mod_carbons, mod_mam, mod_smacks and mod_csi_simple clone the message first,
	-- mod_offline adds its delay at the top level (the message's own element, made per message).
	local parsed = label_from(label);
	if not parsed then return; end
	label_xml[parsed] = tostring(parsed); -- (label_splice: serialised once, not per recipient)
	verdicts:set(key, { gen = verdicts_gen, epoch = cache_epoch, expires = monotonic() + cache_ttl, label = parsed,
		prefix = forms.flot and prefix or nil, by = forms.by, bytes = bytes });
	cache_bytes = cache_bytes + bytes;
	return true;
end

-- The FLOT form of a message delivered from the cache: a new top element over the same children,
-- each body (in the stanza's namespace) a new one with the guard's prefix before the text, over
-- the same attributes (as the message's own elements, only serialised from here on). Its lists are
-- made at their size (a table grown child by child is reallocated at each power of two); the prefix
-- is a text node of its own before the body's (the same characters, so the same bytes written, and
-- get_text gives the same string): the text is not copied.
local t_unpack = table.unpack;
local function flot_body(child, prefix)
	if #child.tags == 0 then
		return setmetatable({ name = "body", attr = child.attr, tags = {}, prefix, t_unpack(child) }, stanza_mt);
	end
	return setmetatable({ name = "body", attr = child.attr, tags = {}, prefix .. (child:get_text() or "") }, stanza_mt);
end
local function flot_of(out, prefix)
	local n, out_tags = #out, out.tags;
	local flot = setmetatable({ name = out.name, attr = out.attr, tags = { t_unpack(out_tags) }, t_unpack(out, 1, n) }, stanza_mt);
	local flot_tags, t = flot.tags, 0;
	for i = 1, n do
		local child = flot[i];
		if child.name then -- (an element, not a text: as util.stanza's serialiser tells them apart)
			t = t + 1;
			if flot_tags[t] ~= child then t = nil; break; end -- (tags not its element children, in order)
			if child.name == "body" and (child.attr.xmlns == nil or child.attr.xmlns == NS_CLIENT) then
				child = flot_body(child, prefix);
				flot[i], flot_tags[t] = child, child;
			end
		end
	end
	if t == #flot_tags then return flot; end
	flot = setmetatable({ name = out.name, attr = out.attr, tags = {} }, stanza_mt);
	flot_tags = flot.tags;
	for _, child in ipairs(out) do
		if type(child) == "table" and child.name == "body" and (child.attr.xmlns == nil or child.attr.xmlns == NS_CLIENT) then
			child = flot_body(child, prefix);
		end
		flot[#flot + 1] = child;
		if type(child) == "table" then flot_tags[#flot_tags + 1] = child; end
	end
	return flot;
end

-- Applies a kept verdict to `event.stanza` (as apply does a compact one). false: it cannot be (ask).
-- Cost (bench/one-to-one-callgrind.mjs, issue 17): every table and string made here is paid for
-- again by Prosody's collector (pause 105 %: a cycle per 5 % of heap grown), so per message only
-- what differs is made. A message with no label of its own (nothing to take out) gets the guard's
-- label appended in place — its table is Prosody's, made for this message, and nothing before this
-- handler kept it (mod_carbons' sent copies are clones made in pre-message); one with a label is
-- rebuilt without it as before.
local function apply_cached(event, entry, asked)
	local stanza = event.stanza;
	local label = entry.label; -- (parsed when kept: keep_verdict)
	local out = stanza;
	local stanza_tags = stanza.tags;
	for i = 1, #stanza_tags do
		local child = stanza_tags[i];
		if child.name == "securitylabel" and child.attr.xmlns == NS_LABELS then out = nil; break; end
	end
	if out == nil then
		out = setmetatable({ name = stanza.name, attr = stanza.attr, tags = {} }, stanza_mt);
		local tags = out.tags;
		for _, child in ipairs(stanza) do
			if type(child) ~= "table" then
				out[#out + 1] = child;
			elseif not (child.name == "securitylabel" and child.attr.xmlns == NS_LABELS) then
				out[#out + 1] = child;
				tags[#tags + 1] = child;
			end
		end
	end
	local tags = out.tags;
	out[#out + 1] = label;
	tags[#tags + 1] = label;
	local prefix = entry.prefix;
	-- (All three fields in the constructor: a table made with two and given a third is rehashed.)
	local forms = { by = entry.by, asked = asked, flot = prefix and flot_of(out, prefix) or nil };
	out.cordon_forms = forms; -- (decided: is_decided)
	-- (Not event.cordon_asked, which apply reads: a fifth field would regrow the event's table.)
	event.cordon_forms = forms;
	event.stanza = out;
	served_from_cache = served_from_cache + 1;
	return true;
end

-- The latency this check adds, measured where it is added, on the server's monotonic clock
-- (packages/guard/src/latency-report.ts): each one-to-one message's hold — from taking it (before
-- the verdict cache is looked up) to handing it on delivered, or refusing it — by kind: "cached"
-- (delivered from the verdict cache: as many as served_from_cache counts) or "asked" (every other:
-- the guard asked, or refused with no verdict to be had); and each question's round trip (sent →
-- answer; none for a question with no answer in time). Fixed buckets, the guard's own
-- (LATENCY_BOUNDS_US: 10 µs to 10 s, five a decade): bounded memory, a few operations per message
-- (docs/performance.md, session 16, has their cost).
local LATENCY_BOUNDS = {}; -- µs
for _, decade in ipairs({ 10, 100, 1000, 10000, 100000, 1000000 }) do
	for _, step in ipairs({ 1, 1.6, 2.5, 4, 6.3 }) do LATENCY_BOUNDS[#LATENCY_BOUNDS + 1] = floor(decade * step + 0.5); end
end
LATENCY_BOUNDS[#LATENCY_BOUNDS + 1] = 10000000;
local N_BOUNDS = #LATENCY_BOUNDS;
local log, ceil = math.log, math.ceil;
local PER_LOG = 5 / log(10); -- buckets per unit of natural log (five a decade)
local function new_histogram()
	local h = { n = 0, sum = 0 };
	for i = 1, N_BOUNDS + 1 do h[i] = 0; end
	return h;
end
local held_cached, held_asked, round_trips = new_histogram(), new_histogram(), new_histogram();
-- One observation of `seconds` in `h`: bucket i holds what is above bound i-1 and at most bound i.
local function observe(h, seconds)
	local us = seconds * 1e6;
	local i = 1;
	if us > 10 then
		i = ceil(log(us / 10) * PER_LOG) + 1; -- (a guess from the log, set right against the bounds)
		if i > N_BOUNDS + 1 then i = N_BOUNDS + 1; end
		while i <= N_BOUNDS and us > LATENCY_BOUNDS[i] do i = i + 1; end
		while i > 1 and us <= LATENCY_BOUNDS[i - 1] do i = i - 1; end
	end
	h[i] = h[i] + 1;
	h.n = h.n + 1;
	h.sum = h.sum + us;
end
-- `<h/>` of what `h` observed since the last report (then forgotten), or "" when nothing.
local function histogram_el(h, of, kind)
	if h.n == 0 then return ""; end
	local b = {};
	for i = 1, N_BOUNDS + 1 do
		if h[i] > 0 then b[#b + 1] = string.format("%d:%d", i - 1, h[i]); h[i] = 0; end
	end
	local el = "<h of='" .. of .. "' kind='" .. kind .. "' us='" .. string.format("%d", floor(h.sum)) .. "' b='" .. table.concat(b, ",") .. "'/>";
	h.n, h.sum = 0, 0;
	return el;
end

-- Messages delivered from the cache never reach the guard: it is told how many, so they are
-- counted with its decisions (packages/guard/src/cache-report.ts), and what this module measured of
-- the latency the check adds (latency-report.ts). Every REPORT_EVERY seconds when there are any
-- (`cordon_guard_report_seconds`, default 5, at least 0.1); a report the guard does not get (not
-- connected, no answer) is not resent.
local REPORT_EVERY = math.max(0.1, module:get_option_number("cordon_guard_report_seconds", 5));
module:add_timer(REPORT_EVERY, function ()
	if served_from_cache > 0 and guard_session() then
		local id = new_id();
		ask({ id = id, xml = "<iq type='set'" .. attr("from", module.host) .. attr("to", guard) .. attr("id", id)
			.. "><served xmlns='" .. NS_GUARD .. "' n='" .. string.format("%d", served_from_cache) .. "'/></iq>" }, function () end);
		served_from_cache = 0;
	end
	if (held_cached.n > 0 or held_asked.n > 0 or round_trips.n > 0) and guard_session() then
		local id = new_id();
		ask({ id = id, xml = "<iq type='set'" .. attr("from", module.host) .. attr("to", guard) .. attr("id", id)
			.. "><latency xmlns='" .. NS_GUARD .. "'>" .. histogram_el(held_cached, "hold", "cached")
			.. histogram_el(held_asked, "hold", "asked") .. histogram_el(round_trips, "round-trip", "asked")
			.. "</latency></iq>" }, function () end);
	end
	return REPORT_EVERY;
end);

-- Pipelining: a message is held and its question sent without waiting for the answer, so a
-- session's next messages are asked about while the guard decides (one round trip per message
-- would cap each session at 1/RTT and cost a runner wake-up each). Per sending session the held
-- messages go on in the order they came: each once it and every one before it is decided.
-- At most MAX_IN_FLIGHT questions of one session are out at once — below the guard's own bound on
-- one sender's checks in progress (`pending.perSender`, default 50), past which it refuses with
-- `wait` — and the session's further messages are held, in order, until one is answered: a busy
-- guard slows a sending session down instead of refusing its messages. The session's runner never
-- waits for this (a runner waiting here paused the connection's reads, and the rest of a burst
-- stayed unread until the client sent again: guard-attack3 P4). At most MAX_HELD messages of one
-- session are held in all; past that a message is refused with `wait` (bounded; one user cannot
-- hold the server's memory).
local MAX_IN_FLIGHT = 32;
local MAX_HELD = 1024;
-- Each session's queue of held messages (`session.cordon_queue`), by session: what this instance
-- refuses when it is unloaded (module.unload).
local queues = setmetatable({}, { __mode = "k" });

-- Refresh ahead (issue 17, session 17; ejabberd's refresh_ahead/6 likewise): a verdict in use in the
-- last half of its life (REFRESH_AHEAD) is asked about again — the question about the message being
-- served, refresh='1' (the guard counts it apart: that message went from the cache already), once per
-- key at a time — and the answer replaces it (keep_verdict, the same epoch rules); any other answer
-- (a refusal, a deliver not kept, an error, no answer) removes the verdict refreshed, that entry only,
-- so the next message is asked about. The question is no item of the session's queue: the session's
-- messages go on being served from the verdict still valid meanwhile, none waits for its own key's
-- renewal. It is the key's flight all the same (queue.flights): a message finding the verdict expired
-- while it is out waits for its answer (single flight, below) instead of being asked about.
-- Why: Prosody kept a verdict 2 s and asked again on the next message after — a question per
-- expiry, with every later message of the session queued behind its round trip (RFC 6120 §10.1):
-- the p99 added at 2,000 msg/s was that round trip (25–160 ms), not the cached path (≤ 10 µs).
local REFRESH_AHEAD = 2;
local release, pump;
local function refresh_ahead(queue, key, entry, event, origin, sender_ip, now)
	if entry.expires - now >= cache_ttl / REFRESH_AHEAD then return; end
	local flights = queue.flights;
	if flights and flights[key] then return; end -- (a question about this key is out: it renews it)
	if not flights then flights = {}; queue.flights = flights; end
	local followers = {};
	flights[key] = followers;
	local request = check_request(event.stanza, origin, sender_ip, nil, own_account(event), nil, nil, true);
	ask(request, function (answer)
		local verdict = answer and answer.attr.type == "result" and answer:get_child("verdict", NS_GUARD) or nil;
		local kept = false;
		if verdict and keepable(verdict) then
			local forms = { by = {}, flot = verdict:get_child("flot", NS_GUARD) };
			for session in verdict:childtags("session", NS_GUARD) do forms.by[session.attr.resource or ""] = session.attr.form; end
			kept = keep_verdict(key, verdict, forms) == true;
		end
		if not kept and not entry.gone and verdicts:get(key) == entry then
			verdicts:set(key, nil);
			entry.gone = true;
			cache_bytes = cache_bytes - entry.bytes;
		end
		-- (This instance unloaded meanwhile: its queues were emptied, nothing waits here.)
		if queue.flights ~= flights or flights[key] ~= followers then return; end
		flights[key] = nil;
		for _, follow in ipairs(followers) do follow(kept); end
		release(queue);
		pump(queue);
	end);
end

function release(queue)
	while true do
		local item = queue[queue.head];
		if not item or not item.done then break; end
		queue[queue.head] = nil;
		queue.head = queue.head + 1;
		local ok, err = pcall(item.finish);
		if not ok then module:log("error", "Cordon guard: applying a decision failed: %s", err); end
	end
	-- (A message served from the verdict cache is done without being asked: never ask past it.)
	if queue.next < queue.head then queue.next = queue.head; end
	if queue.head == queue.tail then queue.head, queue.tail, queue.next = 1, 1, 1; end
end

-- Asks about the held messages not asked yet, in order, while fewer than MAX_IN_FLIGHT are out
-- (first those sent back by a question they waited on: single flight, below).
function pump(queue)
	local again = queue.again;
	while again and again[1] and queue.out < MAX_IN_FLIGHT do
		queue.out = queue.out + 1;
		table.remove(again, 1).start();
	end
	while queue.next < queue.tail and queue.out < MAX_IN_FLIGHT do
		local item = queue[queue.next];
		queue.next = queue.next + 1;
		queue.out = queue.out + 1;
		item.start();
	end
end

local function checker(event_name)
	return function (event)
		local stanza = event.stanza;
		if is_decided(stanza) then return nil; end
		local origin = delivery_origin(event.origin, stanza);
		if not origin then return nil; end
		local queue = event.origin.cordon_queue;
		if not queue then
			queue = { head = 1, tail = 1, next = 1, out = 0 };
			event.origin.cordon_queue = queue;
			queues[event.origin] = queue;
		end
		if queue.tail - queue.head >= MAX_HELD then
			if stanza.attr.type ~= "error" then
				local reply = st.error_reply(stanza, "wait", "resource-constraint");
				if reply.attr.id and #reply.attr.id > 128 then reply.attr.id = nil; end
				module:send(reply);
			end
			return true;
		end
		local taken = monotonic(); -- (the hold starts: latency measurement, above)
		local sender_ip = origin == "c2s" and event.origin.ip or nil;
		local key, cache_asked;
		if cache_ttl > 0 and cache_epoch then key, cache_asked = cache_key(stanza, origin, sender_ip, own_account(event), event.origin); end
		local entry = key and cached_verdict(key, event.origin.cordon_key_memo);
		if entry then
			-- (Before apply_cached, which may add the label to this very stanza.)
			refresh_ahead(queue, key, entry, event, origin, sender_ip, taken);
			if queue.head == queue.tail then
				-- Nothing of this session held before it: it goes on now, in this very event.
				if apply_cached(event, entry, cache_asked) then observe(held_cached, monotonic() - taken); return nil; end
			else
				-- After the session's held messages, in order.
				local item = { done = true, stanza = stanza };
				item.start = function () queue.out = queue.out - 1; end; -- (pump counts it: nothing to ask)
				item.finish = function ()
					-- Still of the epoch last told, on the guard session connected now, and not past its
					-- expiry (a change told, or `cordon_guard_cache_seconds` gone by, while it waited its
					-- turn behind a question: refused with `wait`, the client may send it again — a
					-- verdict is never applied later than the cache keeps it). Replaced meanwhile (a refresh
					-- answered, refresh_ahead): the verdict kept now; removed (the refresh refused): none.
					local live = entry;
					if live.gone then live = cached_verdict(key); end
					live = live and live.epoch == cache_epoch and epoch_session ~= nil and epoch_session == guard_session()
						and live.expires >= monotonic() and live;
					if live and apply_cached(event, live, cache_asked) then
						observe(held_cached, monotonic() - taken);
						module:fire_event(event_name, event);
					else
						refuse_unchecked(stanza, nil);
						observe(held_asked, monotonic() - taken);
					end
				end;
				queue[queue.tail] = item;
				queue.tail = queue.tail + 1;
				pump(queue);
				release(queue);
				return true;
			end
		end
		local item = { done = false, stanza = stanza };
		item.start = function ()
			-- The verdict is kept under the key of the question as asked now, with the recipient's
			-- sessions as they are now (the same ones check_request lists, in this very tick): a
			-- message held past MAX_IN_FLIGHT is asked about later than it arrived, and a verdict for
			-- another set of sessions must never be kept under the key of the set it arrived to
			-- (guard-cache-attack C1: a session back at an uncleared site got a verdict decided for
			-- it at a cleared one).
			local key_now, asked_now;
			if key then key_now, asked_now = cache_key(stanza, origin, sender_ip, own_account(event), event.origin); end
			-- Single flight: the same question (same key) of this session is out already — this one
			-- waits for its answer instead of being asked too (a burst after an entry expired would
			-- otherwise ask about every message of the sender's window). Kept: this message is
			-- decided from the cache, in its turn. Not kept (a refusal, not cacheable, no answer):
			-- it is asked about itself.
			local flight = key_now and queue.flights and queue.flights[key_now];
			if flight then
				queue.out = queue.out - 1; -- (pump counted it: nothing asked)
				flight[#flight + 1] = function (kept)
					if not kept then
						queue.again = queue.again or {};
						queue.again[#queue.again + 1] = item;
						return;
					end
					item.done = true;
					item.finish = function ()
						-- Kept by the answer before it (applied first, in order); gone only when a new
						-- epoch was told meanwhile: refused with `wait`, the client may send it again.
						local entry = cached_verdict(key_now);
						if entry and apply_cached(event, entry, asked_now) then
							observe(held_cached, monotonic() - taken);
							module:fire_event(event_name, event);
						else
							refuse_unchecked(stanza, nil);
							observe(held_asked, monotonic() - taken);
						end
					end;
				end;
				return;
			end
			local request, asked = check_request(stanza, origin, sender_ip, nil, own_account(event));
			event.cordon_asked = asked;
			if key_now then
				event.cordon_cache_key = key_now;
				queue.flights = queue.flights or {};
				queue.flights[key_now] = {};
			end
			local asked_at = monotonic();
			ask(request, function (answer, err)
				if answer then observe(round_trips, monotonic() - asked_at); end
				queue.out = queue.out - 1;
				item.done = true;
				item.finish = function ()
					local verdict;
					if answer then verdict = apply(event, answer); else verdict = unreachable(event, err); end
					observe(held_asked, monotonic() - taken);
					if verdict == nil then module:fire_event(event_name, event); end
				end;
				local followers = key_now and queue.flights[key_now];
				if followers then
					queue.flights[key_now] = nil;
					local kept = answer ~= nil and answer.attr.type == "result" and keepable(answer:get_child("verdict", NS_GUARD));
					for _, follow in ipairs(followers) do follow(kept); end
				end
				release(queue);
				pump(queue);
			end);
		end;
		queue[queue.tail] = item;
		queue.tail = queue.tail + 1;
		pump(queue);
		return true;
	end
end

module:hook("message/bare", checker("message/bare"), 1000);
module:hook("message/full", checker("message/full"), 1000);

-- Per session: what the guard said this session gets of `message` ("label" as decided, "flot",
-- or nil: nothing). A session the guard was not asked about (bound while it decided) gets nothing —
-- also one that took the resource of a session that ended meanwhile (its location, its caps are
-- its own: client-location.ts decided for the other one).
local function form_for(forms, message, session)
	if forms.asked and forms.asked[session.resource or ""] ~= session then return nil; end
	local form = forms.by[session.resource or ""];
	if form == "label" then return message; end
	if form == "flot" and forms.flot then
		-- (Made over this very message's attributes — a verdict applied from the cache: as is, as
		-- Prosody hands one message to every session.)
		if forms.flot.attr == message.attr then return forms.flot; end
		-- A new top element over the FLOT form's children (only serialised), with the message's addresses.
		local flot = shallow(forms.flot);
		flot.attr = message.attr;
		return flot;
	end
	return nil;
end

-- The forms of the message whose XEP-0280 carbons mod_carbons is sending now (it copies and
-- sends them synchronously between `carbons-should-copy` and its return).
local carbon_forms;

-- Each client session's outgoing stanzas: a guarded message, or a received carbon of one, as the
-- guard decided for that session.
local function out_filter(stanza, session)
	if stanza.name ~= "message" then return stanza; end
	local forms = forms_of(stanza);
	if forms then return form_for(forms, stanza, session); end
	if carbon_forms then
		local received = stanza:get_child("received", NS_CARBONS);
		local forwarded = received and received:get_child("forwarded", NS_FORWARD);
		local inner = forwarded and forwarded:get_child("message", NS_CLIENT);
		if inner then
			local chosen = form_for(carbon_forms, inner, session);
			if not chosen then return nil; end
			local carbon = st.clone(stanza);
			local copy = st.clone(chosen);
			copy.attr.xmlns = NS_CLIENT;
			carbon:get_child("received", NS_CARBONS):get_child("forwarded", NS_FORWARD):maptags(function (tag)
				if tag.name == "message" then return copy; end
				return tag;
			end);
			return carbon;
		end
	end
	return stanza;
end

-- The last step before a message served from the verdict cache is written to a client: Prosody
-- would serialise its shared label for every recipient, element by element in Lua (≈ 110,000
-- instructions a message, bench/one-to-one-callgrind.mjs); it was serialised once when kept
-- (label_xml), so the message is serialised here with that text in the label's place — the same
-- bytes Prosody would write. Runs after every other filter (mod_smacks -999, mod_websocket -1000,
-- which clone: then nothing is shared here), and only for a message whose last child is a kept
-- label; returns the text, as mod_c2s writes it.
-- How: util.stanza's own element serialiser (`_dostring`, the upvalue of its __tostring) takes the
-- function it calls for each child element; given splice_el, a kept label is written as its text
-- and every other element by Prosody's code. One buffer, one concatenation: no copy of the
-- message's text (each byte a hook allocates is paid again by the collector). When the serialiser
-- cannot be found (another Prosody), a placeholder element in the label's place, cut out of
-- Prosody's serialisation.
-- Escaping a text or attribute value: util.stanza's xml_escape is a gsub, ≈ 250 instructions a
-- character (bench: "UNCLASSIFIED\n", the FLOT prefix, ≈ 3,800 each time). The same short strings
-- come again and again in a conversation (the FLOT prefix, the addresses, the type): their escaped
-- form is remembered — the same bytes, a table lookup. Bounded: strings of at most ESCAPE_MAX bytes,
-- at most ESCAPE_ENTRIES of them, all forgotten when full.
local xml_escape_raw = st.xml_escape;
local ESCAPE_MAX, ESCAPE_ENTRIES = 48, 256;
local escaped, escaped_count = {}, 0;
local function xml_escape_fn(s)
	local e = escaped[s];
	if e then return e; end
	e = xml_escape_raw(s);
	if #s <= ESCAPE_MAX then
		if escaped_count >= ESCAPE_ENTRIES then escaped, escaped_count = {}, 0; end
		escaped[s] = e;
		escaped_count = escaped_count + 1;
	end
	return e;
end
local t_concat = table.concat;
local serialise_el;
do
	local tostring_fn = stanza_mt.__tostring;
	for i = 1, 16 do
		local name, value = debug.getupvalue(tostring_fn, i);
		if name == nil then break; end
		if name == "_dostring" and type(value) == "function" then serialise_el = value; end
	end
end
local function splice_el(el, buf, self, escape, parentns)
	local text = label_xml[el];
	-- (The text was made with no parent namespace: it names its own; equal bytes unless the parent
	-- is in the label's namespace, where Prosody would leave the xmlns out.)
	if text and parentns ~= el.attr.xmlns then
		buf[#buf + 1] = text;
		return;
	end
	return serialise_el(el, buf, self, escape, parentns);
end
local SLOT = st.stanza("cordon-label-slot");
local SLOT_TAIL = "<cordon-label-slot/></message>";
-- One buffer for every message (emptied after each: nothing of a message stays in it), not a
-- table grown from nothing per message as Prosody's __tostring does.
local splice_buf = {};
local function label_splice(stanza)
	if stanza.name ~= "message" then return stanza; end
	local n = #stanza;
	local label = stanza[n];
	local text = label and label_xml[label];
	if not text then return stanza; end
	if serialise_el then
		local buf = splice_buf;
		local ok = pcall(serialise_el, stanza, buf, splice_el, xml_escape_fn, nil);
		local serialised = ok and t_concat(buf) or nil;
		for i = #buf, 1, -1 do buf[i] = nil; end
		return serialised or stanza;
	end
	stanza[n] = SLOT;
	local ok, serialised = pcall(tostring, stanza);
	stanza[n] = label;
	if not ok or serialised:sub(-#SLOT_TAIL) ~= SLOT_TAIL then return stanza; end
	return serialised:sub(1, -#SLOT_TAIL - 1) .. text .. "</message>";
end

-- XEP-0206 BOSH (mod_bosh 0.12): a BOSH session's send clones each stanza before its filters run
-- (to give it the jabber:client namespace), so a filter sees a copy it knows nothing of — the
-- guarded message would go on as routed (SECRET at a site the guard refused it for, no FLOT form).
-- Such a session gets no filters here: its send is wrapped instead (bosh_send, at the end).
local function is_bosh(session) return session.bosh_wait ~= nil or session.bosh_version ~= nil; end

-- mod_mam (0) hands the message on as a copy carrying its XEP-0359 stanza-id (XEP-0313 §5.1.1),
-- which out_filter would not know: the forms follow the copy, before carbons (-0.5) and delivery (-1).
local function forms_follow(event)
	local forms = event.cordon_forms;
	if forms and not forms_of(event.stanza) then
		session_forms[event.stanza] = forms;
		decided[event.stanza] = true;
	end
end
module:hook("message/bare", forms_follow, -0.45);
module:hook("message/full", forms_follow, -0.45);
module:hook("carbons-should-copy", function (event)
	carbon_forms = forms_of(event.stanza);
end, 1000);
local function end_of_carbons() carbon_forms = nil; end
module:hook("message/bare", end_of_carbons, -0.6);
module:hook("message/full", end_of_carbons, -0.6);

-- XEP-0115: a client's caps are asked about once per announced version (XEP-0030 disco#info to
-- the session itself, so no client can answer for another); until it answers, the session is
-- taken as label-unaware (FLOT shows the marking: nothing is hidden by waiting).
module:hook("pre-presence/bare", function (event)
	local session, stanza = event.origin, event.stanza;
	if session.type ~= "c2s" or not event.to_self or stanza.attr.type then return; end
	local caps = stanza:get_child("c", NS_CAPS);
	local ver = caps and caps.attr.ver;
	if not ver or #ver > 256 or ver == session.cordon_caps_ver then return; end
	session.cordon_caps_ver = ver;
	local node = (caps.attr.node or ""):sub(1, 1024);
	module:send_iq(st.iq({ type = "get", from = module.host, to = session.full_jid, id = new_id() })
		:tag("query", { xmlns = NS_DISCO_INFO, node = node .. "#" .. ver }), nil, timeout):next(function (response)
		if session.cordon_caps_ver ~= ver then return; end
		local query = response.stanza:get_child("query", NS_DISCO_INFO);
		local labels = false;
		for feature in (query and query:childtags("feature") or function () end) do
			if feature.attr.var == NS_LABELS then labels = true; end
		end
		session.cordon_labels = labels;
	end, function () end);
end, 1000);

-- Offline messages are asked about again when they are delivered (a clearance may have been
-- lowered since they were stored). This replaces mod_offline's broadcast (priority -1) for the
-- hosts this module guards: the same store, the same XEP-0203 delay, and each message through
-- the guard first. It runs in the session's runner (initial presence), so it can wait.
local offline_messages = module:open_store("offline", "archive");

module:hook("message/offline/broadcast", function (event)
	local origin = event.origin;
	if not async.ready() then return; end -- not in a session's runner: mod_offline delivers (not expected)
	local data = offline_messages:find(origin.username);
	if not data then return true; end
	-- Every stored message is decided before any is delivered: while Cordon cannot answer, all
	-- stay stored for the next login (nothing delivered unchecked, nothing lost).
	local decided_list = {};
	for _, stanza, when in data do
		local from_node, from_host = jid_split(stanza.attr.from);
		-- What was not asked about on its way in is not asked about now (origin_of: Cordon's own
		-- components decided it, the server generated it); judged as another domain it would be
		-- refused (a trusted component has no peer clearance of its own).
		-- A trusted component's message the module locates (delivery_origin) is decided again for this
		-- session's location (origin='component', offline='1': it stays stored if not granted here).
		if (trusted:contains(from_host) and not located_by_module(from_host)) or (from_host == module.host and not from_node) then
			decided_list[#decided_list + 1] = { stanza = stanza, when = when };
			goto next_message;
		end
		local kind = located_by_module(from_host) and "component" or from_host == module.host and "c2s" or "s2s";
		local request, asked = check_request(stanza, kind, nil, origin);
		local response = ask_wait(request);
		if not response or response.attr.type ~= "result" then
			module:log("warn", "Cordon guard %s gave no decision: offline messages of %s kept", guard, origin.username);
			return true;
		end
		decided_list[#decided_list + 1] = { stanza = stanza, when = when, response = response, asked = asked };
		::next_message::
	end
	-- A message this session's location may not receive stays stored for a session that may.
	local kept = {};
	for _, item in ipairs(decided_list) do
		local checked = { stanza = item.stanza, origin = origin, cordon_asked = item.asked };
		if not item.response or apply(checked, item.response) == nil then
			local forms = forms_of(checked.stanza);
			if forms and not form_for(forms, checked.stanza, origin) then
				kept[#kept + 1] = item;
			else
				local delay = st.stanza("delay", { xmlns = "urn:xmpp:delay", from = module.host, stamp = datetime.datetime(item.when) });
				checked.stanza:add_child(delay);
				if forms and forms.flot then forms.flot:add_child(st.clone(delay)); end
				origin.send(checked.stanza);
			end
		end
	end
	offline_messages:delete(origin.username);
	for _, item in ipairs(kept) do
		offline_messages:append(origin.username, nil, item.stanza, item.when, item.stanza.attr.from);
	end
	return true;
end, 0);

-- mod_smacks' resumable sessions (XEP-0198 §5), by "user@host/previd": the table it keeps them in.
local smacks_sessions = module:shared("/*/smacks/resumption-tokens");

-- "user@host/previd" of a <resume/> mod_smacks would look up; nil when it refuses it itself.
local function resumption_token(session, stanza)
	if session.full_jid or not session.username then return nil; end -- (mod_smacks refuses these)
	return session.username .. "@" .. session.host .. "/" .. (stanza.attr.previd or "");
end

-- A resumption refused (XEP-0198 §5): `<failed/>` with `not-allowed` and the `h` of the hibernated
-- session (what the server handled of the client's stanzas, none of its own), and that session is
-- ended as mod_smacks' own hibernation timeout ends it — nothing is replayed; what it queued and
-- the client did not acknowledge goes where mod_smacks sends it then (offline storage, decided
-- again when it is delivered; the archive, decided again when it is fetched; or an error to its
-- sender that carries nothing of it). A session not hibernating (its connection still up) is left
-- as it is. The client binds afresh.
local destroy_session = require "core.sessionmanager".destroy_session;
local NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
local function refuse_resumption(session, stanza, token)
	-- (Looked up again: an access check waited, letting other connections run.)
	local hibernated = smacks_sessions[token];
	local h = hibernated and hibernated.handled_stanza_count;
	session.send(st.stanza("failed", { xmlns = stanza.attr.xmlns, h = h and string.format("%d", h % 4294967296) or nil })
		:tag("not-allowed", { xmlns = NS_STANZAS }));
	if hibernated and hibernated.hibernating then
		if hibernated.hibernating_watchdog then
			hibernated.hibernating_watchdog:cancel();
			hibernated.hibernating_watchdog = nil;
		end
		smacks_sessions[token] = nil;
		hibernated.resumption_token = nil; -- (else mod_smacks keeps it hibernating: pre-resource-unbind)
		hibernated.resending_unacked = true; -- (its queue takes nothing more)
		destroy_session(hibernated, "Resumption refused by service policy");
	end
end

-- What a hibernated session queued was decided for the clearance its user had then (out_filter, as
-- it was queued); replayed on resumption (XEP-0198 §5) it is a delivery now, and the clearance may
-- have been lowered meanwhile (still granting the access label, or with no access label at all):
-- Cordon issue 17 — what is delivered to a user is what their current clearance grants. The module
-- cannot re-decide a queued message itself (decisions are the guard's), so a resumption whose
-- queue still holds a message the client has not acknowledged (its `h`) is refused
-- (refuse_resumption): what was queued goes to offline storage or the archive, each decided again
-- for the clearance the user has when it is delivered. Fail closed: the cost is a fresh bind when
-- messages arrived while the session slept; a resumption with nothing unacknowledged to replay
-- (presences, IQs only) goes on. Runs after the access check (5), before mod_smacks (0), with no
-- wait in between (guard-lifecycle RS4).
local function resume_replay(event)
	local session, stanza = event.origin, event.stanza;
	local token = resumption_token(session, stanza);
	local hibernated = token and smacks_sessions[token];
	local queue = hibernated and hibernated.outgoing_stanza_queue;
	if not queue then return; end
	-- The first `acked` queued stanzas are acknowledged by this <resume/> (mod_smacks: queue:ack(h)).
	local acked = (tonumber(stanza.attr.h) or 0) - queue:count_acked();
	local i = 0;
	for _, queued in queue:resume() do
		i = i + 1;
		if i > acked and queued.name == "message" then
			module:log("info", "Resumption of a session of %s@%s refused: messages queued while it slept are decided again",
				session.username, module.host);
			refuse_resumption(session, stanza, token);
			return true;
		end
	end
end
for _, ns in ipairs({ "urn:xmpp:sm:2", "urn:xmpp:sm:3" }) do
	module:hook("stanza/" .. ns .. ":resume", resume_replay, 4); -- after resume_access (5)
end

-- ===================================================================================================
-- The server access label (Cordon issue 17; packages/guard/src/access.ts). Optional: with
-- `cordon_guard_access = true` on a host, each user of it must have a clearance that grants the
-- guard's `accessLabel` before a resource is bound (RFC 6120 §7), i.e. before the user is online.
-- Where: `pre-resource-bind`, fired by core.sessionmanager's bind_resource for every bind (RFC 6120
-- §7 over c2s, BOSH, WebSocket; XEP-0078 legacy auth too) before the session is registered, on the
-- session's host; returning false refuses the bind with the error we set. It runs in the session's
-- own async runner (the bind IQ is a stanza of that session), so only that session waits.
-- Fail closed: denied, no answer within `cordon_guard_timeout`, an error answer (the guard not
-- connected: Prosody bounces the question at once) or no runner to wait in: the bind is refused with
-- `not-allowed` (RFC 6120 §7.6.2.2), the condition ejabberd gives for its own `access` rule. The
-- session stays unbound (it can send nothing and receive nothing); the client may try again.
-- Without the option nothing is hooked: sites with no access label pay nothing.
-- ===================================================================================================
if module:get_option_boolean("cordon_guard_access", false) then
	local ACCESS_DENIED = { type = "cancel", condition = "not-allowed", text = "Access denied by service policy" };

	-- true when the guard answers allow; false and why not otherwise.
	local function access_allowed(session)
		if not async.ready() then return false, "not in a session runner"; end
		local request = st.iq({ type = "get", from = module.host, to = guard, id = new_id() })
			:tag("access", { xmlns = NS_GUARD, jid = session.username .. "@" .. module.host }):up();
		local response, err = ask_wait(request);
		if not response then return false, err and err.condition or "no answer"; end
		if response.attr.type ~= "result" then return false, "error answer"; end
		local verdict = response:get_child("access-verdict", NS_GUARD);
		if not verdict then return false, "no verdict"; end
		if verdict.attr.action == "allow" then return true; end
		return false, "denied";
	end

	module:hook("pre-resource-bind", function (event)
		local session = event.session;
		local ok, why = access_allowed(session);
		if ok then return nil; end
		module:log("warn", "Resource binding of %s@%s refused by Cordon's access check (%s)",
			session.username, module.host, why);
		event.error = ACCESS_DENIED;
		return false;
	end, 1000);

	-- XEP-0198 §5 resumption binds no resource (mod_smacks hands the new connection the hibernated
	-- session, resource and all, and replays what was queued for it while it slept): the access
	-- check is made again here, in the new connection's runner, before mod_smacks (0) answers —
	-- the user's clearance may have been lowered since the bind. Unless allowed (fail closed, as
	-- for a bind): refuse_resumption (above).
	local function resume_access(event)
		local session, stanza = event.origin, event.stanza;
		local token = resumption_token(session, stanza);
		if not token or not smacks_sessions[token] then return; end -- (unknown or expired: mod_smacks answers)
		local ok, why = access_allowed(session);
		if ok then return nil; end
		module:log("warn", "Resumption of a session of %s@%s refused by Cordon's access check (%s)",
			session.username, module.host, why);
		refuse_resumption(session, stanza, token);
		return true;
	end
	for _, ns in ipairs({ "urn:xmpp:sm:2", "urn:xmpp:sm:3" }) do
		module:hook("stanza/" .. ns .. ":resume", resume_access, 5); -- after resume_elsewhere (10)
	end
end
-- =================================================== end of the server access label ===============

-- Presence and IQ between users (Cordon issue 17, F3: packages/guard/src/labelled-payload.ts).
-- Labels are carried on messages; a presence or IQ that may carry one (may_carry_label) is asked
-- about, and delivered only if the guard finds nothing labelled in it. Every other presence or IQ
-- goes on unasked (nothing of Cordon's on the path of ordinary presence and IQ traffic). While
-- Cordon cannot answer, one that may carry a label is refused with `wait` (an error or result is
-- dropped).
local function payload_checker(event_name)
	return function (event)
		local stanza = event.stanza;
		if decided[stanza] then return nil; end
		-- The guard's own answers (to this host) are what the module waits for.
		if event.origin.type == "component" and event.origin.host == guard then return nil; end
		-- One a trusted component delivers (review adv17d: the relay lets a labelled IQ cross) is
		-- asked about with origin='component' and the recipient's sessions — the full JID's own, or
		-- every session of the bare JID — unless the component locates them itself (inbound_unasked).
		-- Only one with a label of its own is (nothing else to locate: the component decided its
		-- payload; a catalog's result carries labels as its items).
		local component = event.origin.type == "component" and trusted:contains(event.origin.host);
		local origin;
		if component then
			origin = located_by_module(event.origin.host) and stanza:get_child("securitylabel", NS_LABELS) and "component";
		else
			origin = origin_of(event.origin);
		end
		if not origin or not may_carry_label(stanza, 0) then return nil; end
		local silent = stanza.attr.type == "error" or stanza.attr.type == "result";
		local embedded = st.clone(stanza);
		embedded.attr.xmlns = NS_CLIENT;
		local request = st.iq({ type = "get", from = module.host, to = guard, id = new_id() })
			:tag("check", { xmlns = NS_GUARD, origin = origin }):add_child(embedded);
		if component then
			local to = stanza.attr.to or "";
			local full = prosody.full_sessions[to];
			local user = not full and prosody.bare_sessions[jid_bare(to)];
			for resource, session in pairs(full and { [full.resource] = full } or user and user.sessions or {}) do
				request:tag("session", { resource = resource, ip = session.ip }):up();
			end
		end
		request:up();
		local function applied(response)
			local verdict = response and response.attr.type == "result" and response:get_child("verdict", NS_GUARD);
			local action = verdict and verdict.attr.action;
			if action == "deliver" then
				decided[stanza] = true;
				return nil;
			elseif action == "refuse" then
				local reply = verdict:get_child(stanza.name, NS_CLIENT);
				if reply and not silent then
					reply.attr.xmlns = nil;
					module:send(reply);
				end
			elseif action ~= "drop" and not silent then
				module:log("warn", "Cordon guard %s gave no decision: %s refused", guard, stanza.name);
				refuse_unchecked(stanza, nil);
			end
			return true;
		end
		if async.ready() then
			return applied((ask_wait(request)));
		end
		ask(request, function (response)
			if applied(response) == nil then module:fire_event(event_name, event); end
		end);
		return true;
	end
end

for _, name in ipairs({ "presence/bare", "presence/full", "presence/host", "iq/bare", "iq/full", "iq/host" }) do
	module:hook(name, payload_checker(name), 1000);
end

-- Archive results (XEP-0313 §4.2; packages/guard/src/archive-result.ts): a user's own archive
-- never hands them what their clearance does not grant now. mod_mam sends a page of results and
-- then the query's answer to the session in one go: while a query of the session is answered,
-- its results are held (at most MAX_HELD_RESULTS, beyond that dropped), each is decided by the
-- guard in order — delivered as the guard rewrote it (label re-encoded, FLOT for a client without
-- labels) or dropped — and the answer follows them. A result the guard does not answer is dropped.
local NS_MAM = "urn:xmpp:mam:2";
local MAX_HELD_RESULTS = 1000;

module:hook("iq-set/self/" .. NS_MAM .. ":query", function (event)
	if event.origin.type == "c2s" then
		event.origin.cordon_mam = { id = event.stanza.attr.id, held = {} };
	end
end, 1); -- before mod_mam (0) answers it

local function release_archive(session, held, answer)
	local i = 0;
	local function step()
		i = i + 1;
		local result = held[i];
		if not result then
			decided[answer] = true;
			session.send(answer);
			return;
		end
		local embedded = st.clone(result);
		embedded.attr.xmlns = NS_CLIENT;
		embedded.attr.from = embedded.attr.from or (session.username .. "@" .. session.host);
		embedded.attr.to = embedded.attr.to or session.full_jid;
		local request = st.iq({ type = "get", from = module.host, to = guard, id = new_id() })
			:tag("check", { xmlns = NS_GUARD, origin = "c2s", archive = "1" }):add_child(embedded)
				:tag("session", { resource = session.resource, ip = session.ip, labels = session.cordon_labels and "1" or "0" }):up()
			:up();
		ask(request, function (response)
			local verdict = response and response.attr.type == "result" and response:get_child("verdict", NS_GUARD);
			local out = verdict and verdict.attr.action == "deliver" and verdict:get_child("message", NS_CLIENT);
			if out then
				out.attr = result.attr;
				inherit_ns(out, NS_CLIENT);
				decided[out] = true;
				session.send(out);
			end
			step();
		end);
	end
	step();
end

local function archive_filter(stanza, session)
	local mam = session.cordon_mam;
	if not mam or is_decided(stanza) then return stanza; end
	if stanza.name == "message" and stanza:get_child("result", NS_MAM) then
		if #mam.held < MAX_HELD_RESULTS then mam.held[#mam.held + 1] = stanza; end
		return nil;
	end
	if stanza.name == "iq" and stanza.attr.id == mam.id and (stanza.attr.type == "result" or stanza.attr.type == "error") then
		session.cordon_mam = nil;
		release_archive(session, mam.held, stanza);
		return nil;
	end
	return stanza;
end


-- Sent carbons (XEP-0280 §6; finding F10): mod_carbons copies a client's message to the sender's
-- other sessions in pre-message (-0.5), before any recipient is decided. Those copies are held as
-- they are sent, then the guard is asked — the message as it will be judged on delivery, with
-- each copy's session (its location, its caps) — and each session gets its copy in its own form,
-- or nothing: nothing at all for a refused message, or while Cordon cannot answer.
local NS_CARBONS_SENT = "sent";
local sent_capture, sent_held;

local function start_sent_capture(event)
	if event.origin.type == "c2s" then
		-- (The list is made by the first carbon held: a message with none allocates nothing here.)
		sent_capture, sent_held = event.stanza, nil;
	end
end

local function sent_filter(stanza, session)
	if sent_capture and stanza.name == "message" and stanza:get_child(NS_CARBONS_SENT, NS_CARBONS) then
		if not sent_held then sent_held = {}; end
		sent_held[#sent_held + 1] = { session = session, carbon = stanza };
		return nil;
	end
	return stanza;
end

local function with_inner(carbon, form)
	local copy = st.clone(form);
	copy.attr.xmlns = NS_CLIENT;
	local out = st.clone(carbon);
	out:get_child(NS_CARBONS_SENT, NS_CARBONS):get_child("forwarded", NS_FORWARD):maptags(function (tag)
		if tag.name == "message" then return copy; end
		return tag;
	end);
	return out;
end

-- Each held sent carbon in the form the guard decided for its session (`asked`: the session each
-- resource named when asked; a session not asked about gets nothing).
local function send_copies(verdict, stanza, held, asked)
	local labelled = delivered_form(verdict, stanza);
	if not labelled then return; end
	local flot = flot_form(verdict, labelled);
	local forms = {};
	for copy in verdict:childtags("copy", NS_GUARD) do forms[copy.attr.resource or ""] = copy.attr.form; end
	for _, item in ipairs(held) do
		local form = (not asked or asked[item.session.resource or ""] == item.session) and forms[item.session.resource or ""];
		local chosen = form == "label" and labelled or form == "flot" and flot or nil;
		if chosen then
			chosen = st.clone(chosen);
			local attr = {};
			for k, v in pairs(stanza.attr) do attr[k] = v; end
			chosen.attr = attr;
			inherit_ns(chosen, NS_CLIENT);
			item.session.send(with_inner(item.carbon, chosen));
		end
	end
end

local function release_sent(event)
	local stanza, held = sent_capture, sent_held;
	sent_capture, sent_held = nil, nil;
	if not stanza or stanza ~= event.stanza or not held or #held == 0 then return; end
	-- A message to another domain: its copies were decided with it, on its way out (no second question).
	local outbound = event.cordon_outbound;
	if outbound then return send_copies(outbound.verdict, outbound.labelled_from, held, outbound.asked); end
	if not async.ready() then return; end
	local sessions = {};
	for i, item in ipairs(held) do sessions[i] = item.session; end
	local to = stanza.attr.to or (event.origin.username .. "@" .. event.origin.host);
	local request = check_request(stanza, "c2s", event.origin.ip, nil, to, sessions);
	local response = ask_wait(request);
	local verdict = response and response.attr.type == "result" and response:get_child("verdict", NS_GUARD);
	if not verdict or verdict.attr.action ~= "deliver" then return; end
	send_copies(verdict, stanza, held, nil);
end

for _, name in ipairs({ "pre-message/bare", "pre-message/full", "pre-message/host" }) do
	module:hook(name, start_sent_capture, -0.4); -- just before mod_carbons (-0.5)
	module:hook(name, release_sent, -0.6); -- just after it
end

-- ================================ Messages to another domain (outbound; Cordon issue 17) =========
-- A message a session of this host sends to another domain — a remote server (s2s), a component
-- (a peer domain Cordon's relay claims, any other component) — reaches no message/bare|full hook of
-- a guarded host, so the delivery check above never sees it (review adv16b: a session at an
-- UNCLASSIFIED-only location could send SECRET to a remote user). It is asked about here, on its
-- way out (packages/guard/src/outbound.ts): in `pre-message/bare|full|host`, which Prosody fires on
-- the sender's host for every stanza a client sends (core.stanza_router core_post_stanza, its
-- `preevents`) before it routes it anywhere — at priority 1000, before mod_mam (0) archives it
-- and mod_carbons (-0.5) copies it (XEP-0280 §6: the sent carbons are decided in the same answer,
-- each of the sender's other sessions with carbons enabled as a <copy/>, and release_sent applies
-- them — no second question).
--   outbound='peer'       the destination's outbound peer clearance bounds the label; delivered
--                         with the policy's label and marking (the message rewritten in place: for
--                         a remote domain Prosody routes the very table it handed to the event)
--   outbound='component'  a trusted component (cordon_guard_trusted_components: Cordon's relay,
--                         MUC, catalog): the sender side only — sender's and server's clearances,
--                         the session's location — and the message goes on as written (that
--                         component decides its label and the destination)
-- Not asked: a message to this host or to another host that loads this module (decided on
-- delivery there), and to a trusted component listed in `cordon_guard_outbound_unasked` (one that
-- applies the client-location rule to the sending session itself — Cordon's MUC with client locations configured).
-- Waiting: in the session's async runner (mod_c2s processes a client's stanzas there), so the
-- session's later stanzas wait behind it and its messages leave in the order they came (RFC 6120
-- §10.1); no verdict cache (each outbound message is asked about; its cost is in the README).
-- Fail closed: no answer within `cordon_guard_timeout`, the guard not connected, or no runner to
-- wait in → refused with `wait` (RFC 6120 §8.3.2), nothing of the message in the error.
local is_loaded = require "core.modulemanager".is_loaded;
local jid_host = require "util.jid".host;
local outbound_unasked = module:get_option_set("cordon_guard_outbound_unasked", {});

-- 'peer', 'component', or nil (not an outbound message, or decided elsewhere).
local function outbound_of(stanza, origin)
	local host = jid_host(stanza.attr.to);
	if not host or host == origin.host then return nil; end
	local dest = prosody.hosts[host];
	if dest and dest.type == "local" and is_loaded(host, "cordon_guard") then return nil; end
	if dest and dest.type == "component" and trusted:contains(host) then
		if outbound_unasked:contains(host) then return nil; end
		return "component";
	end
	return "peer";
end

-- The message's children replaced by `out`'s, in the same table (its attributes stay).
local function rewrite_in_place(stanza, out)
	local children, tags = {}, {};
	for i, child in ipairs(out) do
		children[i] = child;
		if type(child) == "table" then tags[#tags + 1] = child; end
	end
	for i = #stanza, 1, -1 do stanza[i] = nil; end
	for i, child in ipairs(children) do stanza[i] = child; end
	stanza.tags = tags;
end

-- XEP-0033 extended addressing (review adv17a, A4/A5): a multicast service (a remote server's,
-- ejabberd's mod_multicast) sends the message on to each <address/>, so a message asked about for
-- its `to` alone reached, through it, a domain with no clearance of its own. Each address at another
-- domain that is not decided where it is delivered (outbound_of: 'peer') is asked about as the
-- message's destination, before the message itself: all must be granted (the sender gets the first
-- refusal, from that address). An address that is not a JID, or more than MAX_ADDRESSED_DOMAINS such
-- domains: refused `not-acceptable`, nothing of it in the error. true: refused (the sender told).
local NS_ADDRESS = "http://jabber.org/protocol/address";
local MAX_ADDRESSED_DOMAINS = 16;
local jid_prep = require "util.jid".prep;
local function addressed_elsewhere(event)
	local stanza, origin = event.stanza, event.origin;
	local addresses = stanza:get_child("addresses", NS_ADDRESS);
	if not addresses then return nil; end
	local to_host, probes, count, bad = jid_host(stanza.attr.to), {}, 0, false;
	for address in addresses:childtags("address") do
		local jid = address.attr.jid and jid_prep(address.attr.jid);
		if address.attr.jid and not jid then bad = true; break; end
		local host = jid and jid_host(jid);
		if host and host ~= to_host and not probes[host] and outbound_of({ attr = { to = jid } }, origin) == "peer" then
			probes[host] = jid;
			count = count + 1;
		end
	end
	if bad or count > MAX_ADDRESSED_DOMAINS then
		local reply = st.error_reply(stanza, "modify", "not-acceptable");
		if reply.attr.id and #reply.attr.id > 128 then reply.attr.id = nil; end
		module:send(reply);
		return true;
	end
	for _, jid in pairs(probes) do
		local probe = shallow(stanza); -- (its own attributes; the children only serialised)
		probe.attr.to = jid;
		local answer, err = ask_wait(check_request(probe, "c2s", origin.ip, nil, nil, {}, "peer"));
		local sub = { origin = origin, stanza = probe };
		if not answer then return unreachable(sub, err); end
		if apply(sub, answer) then return true; end
	end
	return nil;
end

local function outbound_checker(event)
	local stanza, origin = event.stanza, event.origin;
	if origin.type ~= "c2s" or is_decided(stanza) then return nil; end
	if not async.ready() and stanza:get_child("addresses", NS_ADDRESS) then
		refuse_unchecked(stanza, nil);
		return true;
	end
	if addressed_elsewhere(event) then return true; end
	local destination = outbound_of(stanza, origin);
	if not destination then return nil; end
	if not async.ready() then
		module:log("warn", "Cordon guard: an outbound message outside a session runner: refused");
		refuse_unchecked(stanza, nil);
		return true;
	end
	-- The sender's other sessions mod_carbons would copy it to (XEP-0280 §6).
	local copies, asked = {}, {};
	local user = prosody.bare_sessions[jid_bare(stanza.attr.from or "")];
	for resource, session in pairs(user and user.sessions or {}) do
		if session ~= origin and session.want_carbons then
			copies[#copies + 1] = session;
			asked[resource] = session;
		end
	end
	local request = check_request(stanza, "c2s", origin.ip, nil, nil, copies, destination);
	local answer, err = ask_wait(request);
	if not answer then return unreachable(event, err); end
	-- (apply: an error answer, a refusal, a drop or an unusable verdict → true, the sender told;
	-- delivered → nil, event.stanza the message as decided.)
	if apply(event, answer) then return true; end
	if destination == "peer" then rewrite_in_place(stanza, event.stanza); end
	event.stanza = stanza;
	decided[stanza] = true;
	event.cordon_outbound = { verdict = answer:get_child("verdict", NS_GUARD), labelled_from = stanza, asked = asked };
	return nil;
end

for _, name in ipairs({ "pre-message/bare", "pre-message/full", "pre-message/host" }) do
	module:hook(name, outbound_checker, 1000);
end
-- A presence or IQ to another domain that may carry a label (review adv17a, A1): the labelled-payload
-- rule (labelled-payload.ts, payload_checker above) is applied on delivery to a user of a guarded
-- host only, so a labelled presence or an IQ carrying a whole labelled <message/> reached a remote
-- server or untrusted component unasked. Asked here, on its way out, as on delivery (the rule reads
-- the stanza, not its recipient). A roster broadcast is caught too: mod_presence posts a copy per
-- contact with pre-events. A trusted component (Cordon's relay, MUC) judges its own stanzas.
for _, name in ipairs({ "pre-presence/bare", "pre-presence/full", "pre-presence/host", "pre-iq/bare", "pre-iq/full", "pre-iq/host" }) do
	local check = payload_checker(name);
	module:hook(name, function (event)
		if event.origin.type ~= "c2s" or outbound_of(event.stanza, event.origin) ~= "peer" then return nil; end
		if not async.ready() and may_carry_label(event.stanza, 0) then
			if event.stanza.attr.type ~= "error" and event.stanza.attr.type ~= "result" then refuse_unchecked(event.stanza, nil); end
			return true;
		end
		return check(event);
	end, 1000);
end
-- ================================ end of messages to another domain ==============================

-- Each client session's outgoing filters (guard_filter: sent_filter, archive_filter, out_filter; label_splice),
-- added when it binds a resource. Kept per instance of this module (`installed`), so that a reload
-- (module:reload, `module.unload` below) takes this instance's off every session and the new one
-- adds its own to the sessions bound before it: the old filters would read the old instance's
-- decisions only, and hand every message the new one decides as routed (SECRET at a site the
-- guard refused it for: guard-lifecycle RL2).
-- A BOSH session (is_bosh): the same three steps as the filters, in their order, on the very
-- stanza routed to it — before mod_bosh copies it — then mod_bosh's own send. (Only for BOSH: a
-- TCP or WebSocket session's send runs the filters on the stanza itself.)
-- `own`: filters bound to the session itself — XEP-0198 §5 resumption (mod_smacks 0.12) gives the
-- resumed session the filters of the new connection's session, which never bound a resource (so
-- none of this module's: the resumed session got every message as routed, guard-cache-attack2
-- R1), and which calls them with that session object, not the one decided for.
-- The three steps in one filter (one call per stanza through util.filters, not three: nothing of
-- Prosody's or the community's filters runs between them — they were at 1002, 1001 and 1000).
local function guard_filter(stanza, session)
	stanza = sent_filter(stanza, session);
	stanza = stanza and archive_filter(stanza, session);
	return stanza and out_filter(stanza, session);
end
local installed = setmetatable({}, { __mode = "k" }); -- session → its filters, or { bosh = its send }
local function install_filters(session, own)
	if is_bosh(session) then
		local bosh_send = session.send;
		local function send(stanza)
			if type(stanza) == "table" and stanza.name then
				stanza = guard_filter(stanza, session);
				if stanza == nil then return true; end
			end
			return bosh_send(stanza);
		end
		session.send = send;
		installed[session] = { bosh = bosh_send, wrapper = send };
		return;
	end
	local list = own and {
		[1000] = function (stanza) return guard_filter(stanza, session); end,
		[-1001] = label_splice,
	} or { [1000] = guard_filter, [-1001] = label_splice };
	for priority, filter in pairs(list) do filters.add_filter(session, "stanzas/out", filter, priority); end
	installed[session] = list;
end
local function uninstall_filters(session, list)
	if list.bosh then
		if session.send == list.wrapper then session.send = list.bosh; end
		return;
	end
	for _, filter in pairs(list) do filters.remove_filter(session, "stanzas/out", filter); end
end

module:hook("resource-bind", function (event) install_filters(event.session, false); end);
module:hook("smacks-hibernation-end", function (event)
	local resumed = event.resumed;
	if not resumed or not resumed.filters then return; end
	install_filters(resumed, true);
end);

-- XEP-0198 §5 resumption (mod_smacks): a session's queue holds what was decided for its address
-- (its client location, packages/guard/src/client-location.ts); resumed from another address it
-- would be handed there. Refused (`item-not-found`, as for an unknown session): the client binds
-- afresh and what was not acknowledged is stored offline, decided again when it is replayed.
local function resume_elsewhere(event)
	local session, stanza = event.origin, event.stanza;
	if session.full_jid or not session.username then return; end
	local original = smacks_sessions[session.username .. "@" .. session.host .. "/" .. (stanza.attr.previd or "")];
	if original and original.ip ~= session.ip then
		session.send(st.stanza("failed", { xmlns = stanza.attr.xmlns })
			:tag("item-not-found", { xmlns = "urn:ietf:params:xml:ns:xmpp-stanzas" }));
		return true;
	end
end
for _, ns in ipairs({ "urn:xmpp:sm:2", "urn:xmpp:sm:3" }) do
	module:hook("stanza/" .. ns .. ":resume", resume_elsewhere, 10); -- before mod_smacks (0)
end

-- ===================================================================================================
-- Reload (module:reload, the admin shell's `module:reload("cordon_guard", host)`): sessions outlive
-- this instance. What it held is let go here — each message held in a session's queue (waiting for
-- its decision, for the guard link, or for the ones before it) is refused to its sender with
-- `wait` (RFC 6120 §8.3.2: not judged, it may be sent again; nothing of it echoed), never handed to
-- the next instance's hooks unchecked; every question still out is answered "no decision", so a
-- session's runner waiting on one (offline replay, sent carbons, a presence or IQ, the access
-- check) goes on, failing closed; its filters are taken off every session. The next instance adds
-- its own filters to the sessions bound before it, and starts each queue afresh: later messages
-- flow (guard-lifecycle RL1, RL2; before, they queued forever behind the old instance's items).
-- ===================================================================================================
function module.unload()
	unloading = true;
	for session, queue in pairs(queues) do
		for i = queue.head, queue.tail - 1 do
			local item = queue[i];
			queue[i] = nil;
			if item then refuse_unchecked(item.stanza, nil); end
		end
		queue.head, queue.tail, queue.next, queue.again, queue.flights = 1, 1, 1, nil, {};
		if session.cordon_queue == queue then session.cordon_queue = nil; end
	end
	local callbacks = waiting;
	waiting = {};
	for _, callback in pairs(callbacks) do
		local ok, err = pcall(callback, nil, NOT_CONNECTED);
		if not ok then module:log("error", "Cordon guard: ending a question at unload failed: %s", err); end
	end
	for session, list in pairs(installed) do uninstall_filters(session, list); end
end

-- Sessions bound before this instance was loaded (a reload; none at start).
for _, user in pairs(prosody.hosts[module.host] and prosody.hosts[module.host].sessions or {}) do
	for _, session in pairs(user.sessions or {}) do
		install_filters(session, (session.resumption_counter or 0) > 0);
	end
end

-- A reload keeps the cache epoch the guard last told and the guard session it told it on (module.save,
-- module.restore: Prosody's reload hands one to the other, nothing else between them): the guard tells
-- an epoch only when it changes or when it connects, so a new instance without it would keep no
-- verdict — every message asked about — until then (guard-lifecycle-attack LA5). The verdicts
-- themselves are not carried over (the new instance starts with none); only an epoch told on the
-- guard session still connected is taken.
function module.save() return { cache_epoch = cache_epoch, epoch_session = epoch_session }; end
function module.restore(state)
	if state and state.cache_epoch and state.epoch_session ~= nil and state.epoch_session == guard_session() then
		cache_epoch, epoch_session = state.cache_epoch, state.epoch_session;
	end
end
