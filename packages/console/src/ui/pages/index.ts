// The console's pages, in menu order. Each helper adds its own line (one page per file).
import type { Page } from "./types";
import { page as overview } from "./overview";

export type { Page, PageProps } from "./types";

export const pages: readonly Page[] = [overview];
