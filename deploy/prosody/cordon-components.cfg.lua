-- Cordon external components (XEP-0114) for Prosody 0.12.
--
-- Use: copy next to prosody.cfg.lua, replace the {{...}} placeholders, and add at the end of
-- prosody.cfg.lua:   Include "cordon-components.cfg.lua"
-- Repeat the block between the "each COMPONENT" markers once per Cordon component
-- (muc, catalog, relay...). Each component domain needs its own secret.
--
-- XEP-0114 §3 https://xmpp.org/extensions/xep-0114.html#protocol: the component opens a stream
-- to the server and authenticates with sha1(stream id + secret). Prosody accepts one connection
-- per component domain (a second one gets a `conflict` stream error): run Cordon components
-- active/standby, not load-balanced.
--
-- Prosody's mod_component closes a component's stream (every room with it) on a stanza over
-- 512 KiB. Cordon never writes one over its own `server.maxStanzaBytes` (default 262144, half of
-- that) and bounds every sender-chosen part of what it receives from it; keep it below 512 KiB.

-- {{#each COMPONENT}}
Component "{{COMPONENT_DOMAIN}}" {
	component_secret = "{{SECRET}}";
}
-- {{/each}}

-- The block form `Component "name" { ... }` returns to the global section, so the two options
-- below are global whatever precedes this file. Keep the component port on loopback: the
-- handshake secret is the only protection of the link.
component_ports = { {{COMPONENT_PORT}} }
component_interfaces = { "127.0.0.1" }
