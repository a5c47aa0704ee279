// A marking as the admin API shows it (issue 18, CONSOLE.md): `{text, fg?, bg?}` — the display
// marking the policy computes (@cordon/policy labelMarking / clearanceMarking) and the colours of
// its classification from the SPIF (`color`, with a contrasting foreground: markingColours). Never
// from user input: the console paints exactly what the loaded policy says.
import {
  clearanceMarking,
  labelMarking,
  markingColours,
  type Clearance,
  type Classification,
  type Label,
} from "@cordon/policy";

export interface MarkingView {
  text: string;
  fg?: string;
  bg?: string;
}

function coloured(text: string, classification: Classification | undefined): MarkingView {
  const colours = classification ? markingColours(classification) : undefined;
  return {
    text,
    ...(colours?.fgcolor ? { fg: colours.fgcolor } : {}),
    ...(colours?.bgcolor ? { bg: colours.bgcolor } : {}),
  };
}

/** A label's marking in its classification's colours. */
export function labelView(label: Label): MarkingView {
  return coloured(labelMarking(label), label.classification);
}

/** A clearance's marking in the colours of its highest classification (the most it grants). */
export function clearanceView(clearance: Clearance): MarkingView {
  const top = clearance.classifications.reduce<Classification | undefined>(
    (best, c) => (best === undefined || c.hierarchy > best.hierarchy ? c : best),
    undefined,
  );
  return coloured(clearanceMarking(clearance), top);
}
