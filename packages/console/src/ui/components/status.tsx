// Small shared pieces: an error box, a loading line, a status badge.
import type { JSX } from "preact";
import type { ApiError } from "../api";

export function ErrorBox({ error }: { error: ApiError | Error | undefined }): JSX.Element | null {
  if (!error) return null;
  const code = (error as Partial<ApiError>).code;
  return (
    <div class="error" role="alert">
      {code ? <code>{code}</code> : null} {error.message}
    </div>
  );
}

export function Loading({ what = "Loading" }: { what?: string }): JSX.Element {
  return (
    <p class="muted" role="status">
      {what}…
    </p>
  );
}

export function Badge({
  ok,
  yes = "online",
  no = "offline",
}: {
  ok: boolean;
  yes?: string;
  no?: string;
}): JSX.Element {
  return <span class={`badge ${ok ? "badge-ok" : "badge-bad"}`}>{ok ? yes : no}</span>;
}
