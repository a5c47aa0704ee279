#!/usr/bin/python3
"""A slixmpp (Debian python3-slixmpp) client driven over stdin/stdout JSON lines by the e2e tests.

Commands, one JSON object a line, each with "re" (echoed in its answer):
  {"op": "connect", "host", "port", "jid", "password", "plugins": [...]}  -> {"re", "jid"}
  {"op": "catalog", "to", "target"}     XEP-0258 §3 as Gajim sends it, built with the xep_0258
                                        plugin's stanza classes -> {"re", "xml", "items"}: "items"
                                        are what the plugin parses (Catalog["items"])
  {"op": "labelled", "to", "id", "type", "body", "label"}  a message whose <securitylabel> is
                                        built with the plugin's classes from "label" (an item's
                                        <securitylabel> as the catalog gave it) -> {"re"}
  {"op": "join", "room", "nick"}        XEP-0045 §7.2 with the xep_0045 plugin -> {"re", "xml"}
  {"op": "raw", "xml"}                  writes XML as given -> {"re"}
  {"op": "stop"}                        disconnects, then exits
Every message, presence and iq error received is written as {"stanza": "<xml>"}.
Errors: {"re", "error": "<text>"}. Logging goes to stderr.
"""
import asyncio
import json
import logging
import sys

from slixmpp import ClientXMPP, Iq
from slixmpp.exceptions import IqError, IqTimeout, PresenceError
from slixmpp.xmlstream import ET

NS_LABEL = "urn:xmpp:sec-label:0"


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def build_label(msg, label_xml):
    """Fills msg['security_label'] with the plugin's SecurityLabel/DisplayMarking/Label classes."""
    given = ET.fromstring(label_xml)
    sl = msg["security_label"]
    marking = given.find("{%s}displaymarking" % NS_LABEL)
    if marking is not None:
        dm = sl["display_marking"]
        dm["value"] = marking.text or ""
        for colour in ("fgcolor", "bgcolor"):
            if marking.get(colour):
                dm[colour] = marking.get(colour)
    inner = given.find("{%s}label" % NS_LABEL)
    if inner is not None:
        for child in inner:
            sl["label"].xml.append(child)


class Driver:
    def __init__(self):
        self.xmpp = None

    async def connect(self, c):
        # The harness servers speak plain c2s on loopback (no STARTTLS offered), as connectClient.
        xmpp = ClientXMPP(c["jid"], c["password"], plugin_config={"feature_mechanisms": {"unencrypted_plain": True}})
        for plugin in c.get("plugins", []):
            xmpp.register_plugin(plugin)
        started = asyncio.get_event_loop().create_future()
        xmpp.add_event_handler("session_start", lambda _: started.done() or started.set_result(True))
        xmpp.add_event_handler("failed_auth", lambda _: started.done() or started.set_result(False))
        for kind in ("message", "message_error", "presence"):
            xmpp.add_event_handler(kind, lambda s: out({"stanza": str(s)}))
        xmpp.connect(address=(c["host"], int(c["port"])), force_starttls=False, disable_starttls=True)
        if not await asyncio.wait_for(started, 10):
            raise RuntimeError("authentication failed")
        if c.get("presence", True):
            xmpp.send_presence()
        self.xmpp = xmpp
        return {"jid": str(xmpp.boundjid)}

    async def catalog(self, c):
        iq = self.xmpp.Iq()
        iq["to"] = c["to"]
        iq["type"] = "get"
        iq.enable("security_label_catalog")
        iq["security_label_catalog"]["to"] = c["target"]
        try:
            result = await iq.send(timeout=10)
        except IqError as e:
            return {"xml": str(e.iq), "items": []}
        cat = result["security_label_catalog"]
        items = [
            {
                "selector": item["selector"],
                "default": item["default"],
                "marking": item["security_label"]["display_marking"]["value"],
            }
            for item in cat["items"]
        ]
        return {"xml": str(result), "items": items, "restrict": cat["restrict"]}

    async def labelled(self, c):
        msg = self.xmpp.make_message(mto=c["to"], mbody=c["body"], mtype=c.get("type", "chat"))
        msg["id"] = c["id"]
        if c.get("label"):
            build_label(msg, c["label"])
        msg.send()
        return {}

    async def join(self, c):
        try:
            # (self-presence, subject, occupants, history): XEP-0045 §7.2
            joined = await self.xmpp["xep_0045"].join_muc_wait(c["room"], c["nick"], maxstanzas=0, timeout=10)
            return {"xml": str(joined[0])}
        except PresenceError as e:
            return {"xml": str(e.presence)}

    async def raw(self, c):
        self.xmpp.send_raw(c["xml"])
        return {}


async def main():
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    driver = Driver()
    reader = asyncio.StreamReader()
    loop = asyncio.get_event_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            break
        c = json.loads(line)
        if c["op"] == "stop":
            break
        try:
            answer = await getattr(driver, c["op"])(c)
        except (IqError, IqTimeout, asyncio.TimeoutError, RuntimeError, ValueError) as e:
            answer = {"error": "%s: %s" % (type(e).__name__, e)}
        out({"re": c.get("re"), **answer})
    if driver.xmpp is not None:
        driver.xmpp.disconnect()
        await asyncio.sleep(0.2)


asyncio.run(main())
