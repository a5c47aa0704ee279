// Ambient declarations for the untyped xmpp.js packages. Only xml.ts and client.ts import them;
// the harness exports its own interfaces (see xml.ts), never these.
declare module "@xmpp/xml" {
  const xml: unknown;
  export default xml;
}
declare module "@xmpp/client" {
  export const client: unknown;
}
