// Ambient declaration for the untyped @xmpp/client. Only client.ts imports it; the harness exports
// its own interfaces, never this.
declare module "@xmpp/client" {
  export const client: unknown;
}
