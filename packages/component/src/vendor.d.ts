// Ambient declarations for the untyped xmpp.js packages we wrap. Only this package imports them;
// everything it exports is typed with Cordon's own interfaces (see xml.ts).
declare module "@xmpp/xml" {
  const xml: unknown;
  export default xml;
}
declare module "@xmpp/component-core" {
  export const Component: unknown;
}
