// Hash routing (`#/overview`, `#/rooms/abc?x=1`): real links (<a href="#/…">) that work with the
// keyboard, the back button and bookmarks, and no server-side routes to keep in step.
import { useEffect, useState } from "preact/hooks";

export interface Route {
  /** The path after `#`, e.g. "/rooms/abc". */
  path: string;
  query: URLSearchParams;
}

export function currentRoute(): Route {
  const raw = window.location.hash.replace(/^#/u, "") || "/";
  const q = raw.indexOf("?");
  const path = (q < 0 ? raw : raw.slice(0, q)) || "/";
  return {
    path: path.startsWith("/") ? path : `/${path}`,
    query: new URLSearchParams(q < 0 ? "" : raw.slice(q + 1)),
  };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return route;
}

/** The href of a console path: href("/rooms") → "#/rooms". */
export const href = (path: string, query?: Record<string, string | undefined>): string => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== "") q.set(k, v);
  const s = q.toString();
  return `#${path}${s ? `?${s}` : ""}`;
};

export function navigate(path: string, query?: Record<string, string | undefined>): void {
  window.location.hash = href(path, query);
}
