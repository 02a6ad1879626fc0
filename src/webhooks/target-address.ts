import { lookup } from "node:dns/promises";
import { BlockList, isIPv4, isIPv6 } from "node:net";

// An administrator's webhook URL must not become a way into the network
// Gatehouse runs in (SSRF): the cloud metadata service on 169.254.169.254,
// a database on 10.0.0.5, an admin port on localhost. So every address a
// URL's host stands for is checked when the endpoint is added and again,
// from a fresh lookup, at every delivery (a name may be re-pointed after
// the check: DNS rebinding); the request then connects to that checked
// address and no other (src/webhooks/delivery-request.ts).

const internalV4 = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15], // benchmarking
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
] as const;

const internalV6 = [
  ["::", 128], // unspecified
  ["::1", 128], // loopback
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated, still routed by some)
  ["ff00::", 8], // multicast
] as const;

const internal = new BlockList();
for (const [net, prefix] of internalV4) internal.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of internalV6) internal.addSubnet(net, prefix, "ipv6");

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::/96) IPv6 address. */
function embeddedIPv4(address: string): string | null {
  const match =
    /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(
      address,
    );
  if (!match) return null;
  if (match[1]) return match[1];
  const high = Number.parseInt(match[2] as string, 16);
  const low = Number.parseInt(match[3] as string, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
}

/** Loopback, link-local, private, unique-local and the like: not a place to send webhooks. */
export function isInternalAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, "");
  if (isIPv4(bare)) return internal.check(bare, "ipv4");
  if (!isIPv6(bare)) return true; // not an address at all: refuse rather than guess
  const v4 = embeddedIPv4(bare);
  return v4 ? internal.check(v4, "ipv4") : internal.check(bare, "ipv6");
}

export type ResolvedAddress = { address: string; family: 4 | 6 };

/** A host's addresses (an IP literal is its own); empty when the name does not resolve. */
export async function resolveHost(hostname: string): Promise<ResolvedAddress[]> {
  const bare = hostname.replace(/^\[|\]$/g, "");
  if (isIPv4(bare)) return [{ address: bare, family: 4 }];
  if (isIPv6(bare)) return [{ address: bare, family: 6 }];
  try {
    const found = await lookup(bare, { all: true, verbatim: true });
    return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
  } catch {
    return [];
  }
}

export type CheckedHost =
  | { allowed: true; addresses: ResolvedAddress[] }
  | { allowed: false; reason: string };

/** A host's addresses if every one may be sent to; else why not (it does not resolve, or one is internal). */
export async function checkHost(
  hostname: string,
  { allowPrivate }: { allowPrivate: boolean },
): Promise<CheckedHost> {
  const addresses = await resolveHost(hostname);
  if (addresses.length === 0) return { allowed: false, reason: "the host name does not resolve" };
  if (!allowPrivate && addresses.some((a) => isInternalAddress(a.address))) {
    return {
      allowed: false,
      reason:
        "the host is a loopback, link-local or private address (or resolves to one); WEBHOOK_ALLOW_PRIVATE=true allows that",
    };
  }
  return { allowed: true, addresses };
}
