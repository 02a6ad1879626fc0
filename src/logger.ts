import pino, { type Logger } from "pino";

export type { Logger };

// Paths whose values must never reach a log line, wherever they appear in a
// logged object: credentials in headers, bodies and provider responses.
const redactPaths = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  "*.password",
  "*.current_password",
  "*.new_password",
  "*.token",
  "*.access_token",
  "*.refresh_token",
  "*.id_token",
  "*.client_secret",
  "*.secret",
  "*.code_verifier",
  "*.databaseUrl",
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: redactPaths, censor: "[redacted]" },
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
}

/** postgres://user:secret@host/db → postgres://user:***@host/db, for logs and metadata. */
export function maskDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "[unparseable database url]";
  }
}
