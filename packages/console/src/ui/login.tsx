// The login page: the admin token, or a console user's name and password (admin.console.users).
// A one-time token in the address (#token=…) is taken by the app before this page shows.
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { ApiError } from "./api";
import { login, type Credentials, type Session } from "./session";

export function Login({ onLogin, notice }: { onLogin: (s: Session) => void; notice?: string }): JSX.Element {
  const [mode, setMode] = useState<"password" | "token">("password");
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    const credentials: Credentials =
      mode === "token" ? { token: token.trim() } : { user: user.trim(), password };
    try {
      onLogin(await login(credentials));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : "login failed");
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login" id="main">
      <form class="login-box" onSubmit={(e) => void submit(e)} aria-labelledby="login-h">
        <h1 id="login-h">Cordon console</h1>
        {notice ? (
          <p class="notice" role="status">
            {notice}
          </p>
        ) : null}
        <fieldset class="mode">
          <legend>Log in with</legend>
          <label>
            <input
              type="radio"
              name="mode"
              checked={mode === "password"}
              onChange={() => setMode("password")}
            />{" "}
            user and password
          </label>
          <label>
            <input type="radio" name="mode" checked={mode === "token"} onChange={() => setMode("token")} />{" "}
            admin token
          </label>
        </fieldset>
        {mode === "password" ? (
          <>
            <label for="login-user">User</label>
            <input
              id="login-user"
              name="username"
              autocomplete="username"
              required
              value={user}
              onInput={(e) => setUser(e.currentTarget.value)}
            />
            <label for="login-password">Password</label>
            <input
              id="login-password"
              name="password"
              type="password"
              autocomplete="current-password"
              required
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
          </>
        ) : (
          <>
            <label for="login-token">Admin token</label>
            <input
              id="login-token"
              name="token"
              type="password"
              autocomplete="off"
              required
              value={token}
              onInput={(e) => setToken(e.currentTarget.value)}
            />
            <p class="muted small">
              The token of the admin API (STATE_DIR/admin-token, or admin.token in the config).
            </p>
          </>
        )}
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
    </main>
  );
}
