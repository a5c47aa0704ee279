// Response headers of every admin API answer, the console's pages and its JSON alike: a strict
// Content-Security-Policy (CSP Level 3: only this origin's scripts, styles, images and connections;
// no inline script or style, no framing, no <base>, forms only to itself), no MIME sniffing
// (X-Content-Type-Options), no Referer to anyone (the console's URLs name users and rooms), and
// no framing for browsers without frame-ancestors (X-Frame-Options).
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};
