#!/usr/bin/python3
"""Gajim's library (Debian python3-nbxmpp 4.2.2) headless: logs in and asks its own server for the
XEP-0258 catalog of one contact with nbxmpp's SecurityLabels module, as Gajim does when a chat
opens, then prints what nbxmpp made of it as one JSON line:
  {"labels": [selector, ...], "default": selector or null, "markings": {selector: marking}}
or {"error": "<text>"}. Arguments: one JSON object {host, port, jid, password, target}.
"""
import json
import sys

from gi.repository import GLib
from nbxmpp.client import Client
from nbxmpp.const import ConnectionProtocol, ConnectionType

args = json.loads(sys.argv[1])
loop = GLib.MainLoop()
result = {"error": "timed out"}


def finish(answer):
    global result
    result = answer
    client.disconnect()
    loop.quit()


def on_catalog(task):
    try:
        catalog = task.finish()
    except Exception as e:  # nbxmpp raises StanzaError and others: reported, the test decides
        finish({"error": "%s: %s" % (type(e).__name__, e)})
        return
    finish(
        {
            "labels": catalog.get_label_names(),
            "default": catalog.default,
            "markings": {k: (v.displaymarking.name if v.displaymarking else None) for k, v in catalog.labels.items()},
        }
    )


def on_connected(_client, _signal_name):
    client.get_module("SecurityLabels").request_catalog(args["target"], callback=on_catalog)


def on_failed(_client, signal_name):
    finish({"error": signal_name})


user, domain = args["jid"].split("@", 1)
client = Client()
client.set_username(user)
client.set_domain(domain)
client.set_password(args["password"])
client.set_resource("nbxmpp")
# The harness servers speak plain c2s on loopback (no STARTTLS offered), as connectClient.
client.set_custom_host("%s:%s" % (args["host"], args["port"]), ConnectionProtocol.TCP, ConnectionType.PLAIN)
client.set_mechs(["PLAIN"])
client.subscribe("connected", on_connected)
client.subscribe("connection-failed", on_failed)
client.subscribe("disconnected", lambda *_: loop.quit())
GLib.timeout_add_seconds(15, lambda: finish({"error": "timed out"}))
client.connect()
loop.run()
print(json.dumps(result), flush=True)
