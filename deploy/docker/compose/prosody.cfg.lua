-- Prosody for the compose example: one user domain, the Cordon MUC and catalog as external
-- components (XEP-0114), the catalog namespace delegated (XEP-0355), s2s off.
-- Mirrors deploy/prosody/cordon-components.cfg.lua and cordon-delegation.cfg.lua (the snippets the
-- e2e tests run), with the secrets read from the container environment.
daemonize = false
pidfile = "/var/run/prosody/prosody.pid"
log = { { levels = { min = "info" }, to = "console" } }
data_path = "/var/lib/prosody"
plugin_paths = { "/etc/prosody/cordon-modules" }

modules_enabled = {
	"roster"; "saslauth"; "tls"; "disco"; "ping"; "register"; "posix";
}
modules_disabled = { "s2s" }          -- cross-domain traffic goes through the Cordon relay, never s2s
allow_registration = false
c2s_require_encryption = true
authentication = "internal_hashed"

-- Components connect from the cordon container over the internal compose network; the port is
-- not published on the host. The handshake secret is the only protection of the link.
component_ports = { 5347 }
component_interfaces = { "*" }

VirtualHost "example.test" {
	modules_enabled = { "delegation"; "privilege" };
	delegations = { ["urn:xmpp:sec-label:catalog:2"] = { jid = "catalog.example.test" } };
}

Component "rooms.example.test" {
	component_secret = Lua.os.getenv("CORDON_MUC_SECRET");
}

Component "catalog.example.test" {
	component_secret = Lua.os.getenv("CORDON_CATALOG_SECRET");
	modules_enabled = { "delegation"; "privilege" };
}
