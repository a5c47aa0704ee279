-- XEP-0355 namespace delegation for Cordon (Prosody 0.12 + community mod_delegation).
--
-- Needs the `prosody-modules` package (Debian installs mod_delegation and mod_privilege into
-- /usr/lib/prosody/modules, already on Prosody's module path; elsewhere add the directory
-- holding mod_delegation/ to `plugin_paths`).
--
-- Use: Include "cordon-delegation.cfg.lua" after cordon-components.cfg.lua; the VirtualHost below is the
-- user domain whose IQs are delegated. Repeat the lines between the "each DELEGATION" markers once
-- per delegated namespace, and the block between the "each DELEGATED_COMPONENT" markers once per
-- component that receives a delegation.
-- Caution: this sets `modules_enabled` on the VirtualHost; if your VirtualHost already has its
-- own `modules_enabled`, add "delegation" and "privilege" to that list instead.
--
-- XEP-0355 §5 https://xmpp.org/extensions/xep-0355.html#process: the server forwards IQs of the
-- delegated namespace (addressed to the domain or a user's bare JID) to the component inside
-- <delegation><forwarded/></delegation>. Prosody's module speaks urn:xmpp:delegation:2.

VirtualHost "{{DOMAIN}}" {
	modules_enabled = { "delegation"; "privilege" };
	delegations = {
		-- {{#each DELEGATION}}
		["{{NAMESPACE}}"] = { jid = "{{COMPONENT_DOMAIN}}" };
		-- {{/each}}
	};
}

-- mod_delegation must also be loaded on the receiving component: it hooks the component's
-- authentication to advertise the delegation (XEP-0355 §4).
-- {{#each DELEGATED_COMPONENT}}
Component "{{COMPONENT_DOMAIN}}" {
	modules_enabled = { "delegation"; "privilege" };
}
-- {{/each}}
