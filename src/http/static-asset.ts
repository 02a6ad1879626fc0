import { createHash } from "node:crypto";
import type { Context } from "hono";
import type { AppEnv } from "./app-env.ts";

/**
 * A file the pages load (a script, a stylesheet), served from memory and
 * revalidated by its ETag: a new release brings new content at once, an
 * unchanged one costs a 304. Compressed once, at start, for clients that
 * accept gzip.
 */
export function staticAsset(text: string, contentType: string) {
  const etag = `"${createHash("sha256").update(text).digest("base64url").slice(0, 22)}"`;
  const gzipped = Bun.gzipSync(Buffer.from(text));
  return (c: Context<AppEnv>) => {
    const headers = { "cache-control": "no-cache", etag, vary: "accept-encoding" };
    if (c.req.header("if-none-match") === etag) return c.body(null, 304, headers);
    if (/\bgzip\b/.test(c.req.header("accept-encoding") ?? "")) {
      return c.body(gzipped, 200, {
        ...headers,
        "content-type": contentType,
        "content-encoding": "gzip",
      });
    }
    return c.body(text, 200, { ...headers, "content-type": contentType });
  };
}
