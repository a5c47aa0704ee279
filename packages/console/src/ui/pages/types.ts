// What a page of the console is. Each page file exports `page`; pages/index.ts lists them in menu order.
import type { ComponentType } from "preact";
import type { Role } from "../session";

export interface PageProps {
  /** What follows the page's path, e.g. "/alice@example.mil" for "#/clearances/alice@example.mil". */
  rest: string;
  query: URLSearchParams;
}

export interface Page {
  /** "/overview": the page answers this path and everything under it. */
  path: string;
  /** Menu and window title. */
  title: string;
  /** Roles that see the page (default: every role). */
  roles?: readonly Role[];
  View: ComponentType<PageProps>;
}
