-- Cordon's central check on Prosody 0.12: every message to a user of the hosts below is decided
-- by Cordon's guard component before Prosody delivers, archives or stores it offline.
--
-- Use: copy next to prosody.cfg.lua together with the modules/ directory, replace the {{...}}
-- placeholders, and add at the end of prosody.cfg.lua (after cordon-components.cfg.lua, which
-- declares the guard's component):   Include "cordon-guard.cfg.lua"
-- If you already set `plugin_paths`, add the modules/ directory to yours instead of the line
-- below; if a host below already lists `modules_enabled` of its own, add "cordon_guard" there.
-- What the module does, what it does not cover and what happens when Cordon is down:
-- packages/guard/README.md.

plugin_paths = { "{{MODULE_DIR}}" }

-- Cordon's own components (its MUC, its relay, its catalog): they decide their stanzas themselves,
-- so theirs are not asked about again. Any other component is judged as another domain — and the
-- catalog's answers carry labels (its items), so an untrusted catalog's answers would be dropped
-- as labelled IQ payloads, including those Prosody's mod_delegation hands on from it.
-- A trusted component may also ask where a user's session connected from (the catalog applies the
-- guard's client locations to the session asking it): list only Cordon's own components.
cordon_guard_trusted_components = {
-- {{#each TRUSTED_COMPONENT}}
	"{{COMPONENT_DOMAIN}}";
-- {{/each}}
}

-- A message a user sends to another domain is decided on its way out (packages/guard/README.md,
-- "Messages to another domain"); to a trusted component, for the sending side only. List here the
-- trusted components that apply the client-location rule to the sending session themselves
-- (Cordon's MUC with client locations configured), so that their messages are not decided twice:
-- cordon_guard_outbound_unasked = { "rooms.example.test" };

-- A message a trusted component delivers to a user of the hosts below is asked about too, for each
-- recipient session's client location alone (origin='component': Cordon's relay knows the peer's
-- and the recipient's clearances, not where the recipient's sessions are; packages/guard/README.md,
-- "Inbound across the relay"). List here the trusted components that locate the recipient's
-- sessions themselves (Cordon's MUC with client locations configured), so that their messages are
-- not asked about twice — the relay never:
cordon_guard_inbound_unasked = {
-- {{#each INBOUND_UNASKED}}
	"{{COMPONENT_DOMAIN}}";
-- {{/each}}
}

-- {{#each GUARDED_HOST}}
VirtualHost "{{DOMAIN}}" {
	modules_enabled = { "cordon_guard" };
	-- The guard's component domain (declared in cordon-components.cfg.lua).
	cordon_guard_component = "{{GUARD_DOMAIN}}";
	-- Seconds to wait for a decision; then the message is refused with a `wait` error.
	cordon_guard_timeout = {{TIMEOUT}};
	-- Seconds a verdict the guard marked cacheable is reused for an identical question (same
	-- sender and location, recipient sessions, type, label bytes, message shape); 0: every
	-- message is asked about. Cleared at once when Cordon says a clearance, policy or
	-- configuration changed, and when the guard disconnects (packages/guard/README.md).
	cordon_guard_cache_seconds = {{CACHE_SECONDS}};
	-- Seconds between the reports to the guard: messages served from the cache, and the latency
	-- the check added (its metrics cordon_guard_hold_seconds, cordon_guard_round_trip_seconds).
	-- cordon_guard_report_seconds = 5;
	-- The server access label: set to true when the guard has `accessLabel`; then each user must
	-- be cleared for it to bind a resource, and while Cordon cannot answer nobody can log in.
	-- cordon_guard_access = true;
}
-- {{/each}}
