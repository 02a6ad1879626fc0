import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { checkHost, type ResolvedAddress } from "./target-address.ts";

// One POST of a delivery. The host is looked up and checked now (not only
// when the endpoint was added) and the connection goes to those checked
// addresses through the request's own `lookup`, so a name re-pointed
// between the check and the connection cannot redirect it. Redirects are
// not followed (a 3xx is a failure): a public URL must not bounce the
// request inward.

export type DeliveryResult = {
  delivered: boolean;
  responseCode: number | null;
  error: string | null;
};

/** Answers `lookup` from addresses already checked, never from a second lookup. */
const pinnedLookup =
  (addresses: readonly ResolvedAddress[]): LookupFunction =>
  (_hostname, options, callback) => {
    const first = addresses[0] as ResolvedAddress;
    if ((options as { all?: boolean }).all) {
      (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [...addresses]);
    } else {
      callback(null, first.address, first.family);
    }
  };

/** How much of a receiver's answer is read (and dropped) before the connection is let go. */
const maxResponseBytes = 64 * 1024;

export async function postDelivery(
  url: string,
  headers: Record<string, string>,
  body: string,
  { allowPrivate, timeoutMs }: { allowPrivate: boolean; timeoutMs: number },
): Promise<DeliveryResult> {
  const target = new URL(url);
  const host = await checkHost(target.hostname, { allowPrivate });
  if (!host.allowed) return { delivered: false, responseCode: null, error: host.reason };
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = send(
      target,
      {
        method: "POST",
        headers: {
          ...headers,
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(body)),
          "user-agent": "Gatehouse-Webhooks",
        },
        lookup: pinnedLookup(host.addresses),
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        let read = 0;
        res.on("data", (chunk: Buffer) => {
          read += chunk.length;
          if (read > maxResponseBytes) res.destroy();
        });
        const code = res.statusCode ?? null;
        const done = () =>
          resolve({
            delivered: code !== null && code >= 200 && code < 300,
            responseCode: code,
            error: code !== null && code >= 200 && code < 300 ? null : `answered ${code}`,
          });
        res.on("end", done);
        res.on("close", done);
        res.on("error", done);
      },
    );
    req.on("error", (error) => {
      const timedOut = error.name === "AbortError" || error.name === "TimeoutError";
      resolve({
        delivered: false,
        responseCode: null,
        error: timedOut ? `no answer within ${timeoutMs} ms` : `request failed: ${error.message}`,
      });
    });
    req.end(body);
  });
}
