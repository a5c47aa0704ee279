// A security marking as a security officer expects to see it: the policy's marking text in the
// policy's colours (from the SPIF's markingData/colour, handed out by the API; never from what a
// user sent). A colour that is not a plain CSS colour value is ignored (shown neutral).
import type { JSX } from "preact";

export interface MarkingValue {
  text: string;
  fg?: string | undefined;
  bg?: string | undefined;
}

const COLOUR = /^(?:#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20}|rgb\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*\))$/u;

/** A safe CSS colour value, or undefined. */
export function safeColour(value: string | undefined): string | undefined {
  return value !== undefined && COLOUR.test(value.trim()) ? value.trim() : undefined;
}

/** Black or white, whichever reads better on `bg` (#rgb/#rrggbb; white otherwise). */
export function readableOn(bg: string): string {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/iu.exec(bg)?.[1];
  if (!hex) return "#ffffff";
  const full = hex.length === 3 ? [...hex].map((c) => c + c).join("") : hex;
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16) / 255) as [
    number,
    number,
    number,
  ];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.55 ? "#000000" : "#ffffff";
}

export interface MarkingProps {
  m: MarkingValue | undefined | null;
  /** Shown when there is no marking. */
  empty?: string;
  class?: string;
}

export function Marking({ m, empty = "—", class: extra }: MarkingProps): JSX.Element {
  if (!m || m.text === "") return <span class="marking marking-none">{empty}</span>;
  const bg = safeColour(m.bg);
  const fg = safeColour(m.fg) ?? (bg ? readableOn(bg) : undefined);
  // Colours through the style object (CSSOM), which the strict CSP allows; never a style attribute.
  const style: Record<string, string> = {};
  if (bg) style.backgroundColor = bg;
  if (fg) style.color = fg;
  if (bg) style.borderColor = bg;
  return (
    <span
      class={`marking${bg ? " marking-coloured" : ""}${extra ? ` ${extra}` : ""}`}
      style={style}
      title={m.text}
    >
      {m.text}
    </span>
  );
}
