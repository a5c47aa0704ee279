// The console's pages, in menu order. Each helper adds its own line (one page per file).
import type { Page } from "./types";
import { page as overview } from "./overview";
import { page as rooms } from "./rooms";
import { page as boundary } from "./boundary";

export type { Page, PageProps } from "./types";

export const pages: readonly Page[] = [overview, rooms, boundary];
