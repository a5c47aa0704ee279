// The console's frame: session (login page until there is one), navigation, and the page of the route.
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { onUnauthorized } from "./api";
import { Login } from "./login";
import { pages } from "./pages/index";
import type { Page } from "./pages/types";
import { href, useRoute } from "./router";
import { loadSession, login, logout, SessionContext, takeTokenFromUrl, type Session } from "./session";
import { ErrorBox, Loading } from "./components/status";

type State =
  | { kind: "loading" }
  | { kind: "out"; notice?: string }
  | { kind: "in"; session: Session }
  | { kind: "error"; error: Error };

function visible(page: Page, session: Session): boolean {
  return !page.roles || page.roles.includes(session.role);
}

export function App(): JSX.Element {
  const [state, setState] = useState<State>({ kind: "loading" });
  const route = useRoute();

  useEffect(() => {
    const token = takeTokenFromUrl();
    const start = token
      ? login({ token }).catch(() => {
          setState({ kind: "out", notice: "That login link has been used or has expired: log in below." });
          return null;
        })
      : loadSession();
    start.then(
      (s) => {
        if (s === null) return;
        setState(s ? { kind: "in", session: s } : { kind: "out" });
      },
      (error: unknown) => setState({ kind: "error", error: error as Error }),
    );
    return onUnauthorized(() => setState({ kind: "out", notice: "Your session has ended: log in again." }));
  }, []);

  if (state.kind === "loading") return <Loading what="Starting" />;
  if (state.kind === "error") return <ErrorBox error={state.error} />;
  if (state.kind === "out")
    return <Login notice={state.notice} onLogin={(session) => setState({ kind: "in", session })} />;

  const session = state.session;
  const shown = pages.filter((p) => visible(p, session));
  const page =
    shown.find((p) => route.path === p.path || route.path.startsWith(`${p.path}/`)) ??
    (route.path === "/" ? shown[0] : undefined);
  const rest = page ? route.path.slice(page.path.length) : "";
  if (page) document.title = `${page.title} · Cordon`;

  return (
    <SessionContext.Provider value={session}>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById("main")?.focus();
        }}
      >
        Skip to content
      </a>
      <div class="layout">
        <header class="top">
          <span class="brand">Cordon</span>
          <nav aria-label="Console">
            <ul>
              {shown.map((p) => (
                <li key={p.path}>
                  <a href={href(p.path)} aria-current={p === page ? "page" : undefined}>
                    {p.title}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <div class="who">
            <span data-testid="who">
              {session.user} <span class={`role role-${session.role}`}>{session.role}</span>
            </span>
            <button
              type="button"
              onClick={() => void logout().finally(() => setState({ kind: "out", notice: "Logged out." }))}
            >
              Log out
            </button>
          </div>
        </header>
        <main id="main" tabIndex={-1}>
          {page ? (
            <>
              <h1>{page.title}</h1>
              <page.View rest={rest} query={route.query} />
            </>
          ) : (
            <>
              <h1>Not found</h1>
              <p>
                No page here. <a href={href("/")}>Go to the overview</a>.
              </p>
            </>
          )}
        </main>
      </div>
    </SessionContext.Provider>
  );
}
