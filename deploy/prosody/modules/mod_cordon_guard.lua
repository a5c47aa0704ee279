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
-- Waiting: inside a session's own async runner (messages from clients and remote servers) the
-- session waits for the answer, so its messages stay in order and nothing else waits; a message
-- fired outside one (module code) is held and fired again once decided.
-- Fail closed: no answer within `cordon_guard_timeout` seconds, or the guard not connected, refuses
-- the message with a `wait` error (unless `cordon_guard_unlabelled_when_down = "deliver"` and the
-- message carries no label). Prosody routes to the guard again as soon as it reconnects.
local st = require "util.stanza";
local datetime = require "util.datetime";
local async = require "util.async";
local new_id = require "util.id".short;
local jid_split = require "util.jid".split;

local NS_GUARD = "urn:cordon:guard:0";
local NS_CLIENT = "jabber:client";

local guard = module:get_option_string("cordon_guard_component", "guard." .. module.host);
local timeout = module:get_option_number("cordon_guard_timeout", 2);
-- Components whose messages were decided by Cordon already (its MUC and relay).
local trusted = module:get_option_set("cordon_guard_trusted_components", {});
local deliver_unlabelled_when_down = module:get_option_string("cordon_guard_unlabelled_when_down", "refuse") == "deliver";

-- Messages this module let through (and fires again): weak, so a delivered message is forgotten.
local decided = setmetatable({}, { __mode = "k" });

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

local function unreachable(event, err)
	if deliver_unlabelled_when_down and not may_carry_label(event.stanza, 0) then
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

-- Applies the guard's answer. Returns true when the message must go no further, nil when it goes
-- on (as event.stanza, rewritten).
local function apply(event, response)
	-- An error answer (the guard refusing the question, or Prosody bouncing it while the guard is
	-- not connected: send_iq resolves with that bounce) is no decision: refused with `wait`.
	if response.attr.type ~= "result" then
		return unreachable(event, { type = "wait", condition = "internal-server-error" });
	end
	local verdict = response:get_child("verdict", NS_GUARD);
	local action = verdict and verdict.attr.action;
	if action == "deliver" then
		local out = verdict:get_child("message", NS_CLIENT);
		if out then
			out.attr = event.stanza.attr;
			inherit_ns(out, NS_CLIENT);
			decided[out] = true;
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
	return unreachable(event, { type = "wait", condition = "internal-server-error" });
end

local function origin_of(origin)
	if origin.type == "c2s" then return "c2s"; end
	if origin.type == "s2sin" then return "s2s"; end
	if origin.type == "component" then
		if trusted:contains(origin.host) then return nil; end
		return "s2s"; -- any other component is judged as another domain (its peer clearance)
	end
	return nil; -- generated by the server itself (PEP, server messages): not checked
end

local function checker(event_name)
	return function (event)
		local stanza = event.stanza;
		if decided[stanza] then return nil; end
		local origin = origin_of(event.origin);
		if not origin then return nil; end
		local embedded = st.clone(stanza);
		embedded.attr.xmlns = NS_CLIENT;
		local request = st.iq({ type = "get", from = module.host, to = guard, id = new_id() })
			:tag("check", { xmlns = NS_GUARD, origin = origin }):add_child(embedded):up();
		if async.ready() then
			local response, err = async.wait_for(module:send_iq(request, nil, timeout));
			if not response then return unreachable(event, err); end
			return apply(event, response.stanza);
		end
		module:send_iq(request, nil, timeout):next(function (response)
			if apply(event, response.stanza) == nil then module:fire_event(event_name, event); end
		end, function (err)
			if unreachable(event, err) == nil then module:fire_event(event_name, event); end
		end);
		return true;
	end
end

module:hook("message/bare", checker("message/bare"), 1000);
module:hook("message/full", checker("message/full"), 1000);

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
		if trusted:contains(from_host) or (from_host == module.host and not from_node) then
			decided_list[#decided_list + 1] = { stanza = stanza, when = when };
			goto next_message;
		end
		local embedded = st.clone(stanza);
		embedded.attr.xmlns = NS_CLIENT;
		local request = st.iq({ type = "get", from = module.host, to = guard, id = new_id() })
			:tag("check", { xmlns = NS_GUARD, origin = from_host == module.host and "c2s" or "s2s" })
				:add_child(embedded):up();
		local response = async.wait_for(module:send_iq(request, nil, timeout));
		if not response or response.stanza.attr.type ~= "result" then
			module:log("warn", "Cordon guard %s gave no decision: offline messages of %s kept", guard, origin.username);
			return true;
		end
		decided_list[#decided_list + 1] = { stanza = stanza, when = when, response = response.stanza };
		::next_message::
	end
	for _, item in ipairs(decided_list) do
		local checked = { stanza = item.stanza, origin = origin };
		if not item.response or apply(checked, item.response) == nil then
			checked.stanza:tag("delay", { xmlns = "urn:xmpp:delay", from = module.host, stamp = datetime.datetime(item.when) }):up();
			origin.send(checked.stanza);
		end
	end
	offline_messages:delete(origin.username);
	return true;
end, 0);

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
		local response, err = async.wait_for(module:send_iq(request, nil, timeout));
		if not response then return false, err and err.condition or "no answer"; end
		if response.stanza.attr.type ~= "result" then return false, "error answer"; end
		local verdict = response.stanza:get_child("access-verdict", NS_GUARD);
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
end
-- =================================================== end of the server access label ===============
