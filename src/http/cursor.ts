import { DomainError } from "../errors.ts";

// Keyset cursors are opaque to clients: base64url of "<exact UTC time>|<uuid>".
// Decoding checks both parts, so a forged cursor is a 400, never a SQL error.

const exactTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(time: string, id: string): string {
  return Buffer.from(`${time}|${id}`).toString("base64url");
}

export function decodeCursor(cursor: string): { time: string; id: string } {
  const [time, id, ...rest] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  if (!time || !id || rest.length > 0 || !exactTime.test(time) || !uuid.test(id)) {
    throw new DomainError("validation_failed", {
      detail: "The cursor is not one this server issued.",
      errors: [{ pointer: "#/cursor", detail: "invalid cursor" }],
    });
  }
  return { time, id };
}
