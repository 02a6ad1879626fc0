import Bowser from "bowser";

// What a person recognises a device by: "Firefox 128 on Windows", not the
// raw User-Agent header. Bowser reads the header; an empty or unknown one
// is named by the kind of client.

/** "Chrome 131 on macOS", "Safari on iOS", or a fallback for clients Bowser cannot name. */
export function deviceName(userAgent: string | null, kind: "browser" | "token"): string {
  const fallback = kind === "token" ? "An app or command-line client" : "Unknown browser";
  if (!userAgent) return fallback;
  const parser = Bowser.getParser(userAgent);
  const browser = parser.getBrowserName();
  const os = parser.getOSName();
  if (!browser && !os) return fallback;
  const major = parser.getBrowserVersion()?.split(".")[0];
  const named = browser ? `${browser}${major ? ` ${major}` : ""}` : fallback;
  return os ? `${named} on ${os}` : named;
}
