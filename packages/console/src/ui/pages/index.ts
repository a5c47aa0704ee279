// The console's pages, in menu order. Each helper adds its own line (one page per file).
import type { Page } from "./types";
import { page as overview } from "./overview";
import { page as rooms } from "./rooms";
import { page as clearances } from "./clearances";
import { page as policies } from "./policies";
import { page as catalogs } from "./catalogs";
import { page as boundary } from "./boundary";

export type { Page, PageProps } from "./types";

export const pages: readonly Page[] = [overview, rooms, clearances, policies, catalogs, boundary];
