import { BlockList } from "node:net";
import type { HttpConfig } from "../config/index.ts";

/** Whether a directly connected peer is one of our proxies, whose X-Forwarded-* we may believe. */
export type ProxyTrust = (peer: string | null) => boolean;

/**
 * TRUSTED_PROXIES, when set, names the proxies by address: anyone else who
 * reaches us directly is a client, whatever headers it sends. Without it,
 * TRUST_PROXY_HOPS > 0 says every connection comes through our proxies; 0
 * (the default) believes no one. Forward-auth bypasses in oauth2-proxy and
 * Authelia came from believing X-Forwarded-* sent by the client itself.
 */
export function proxyTrust(
  config: Pick<HttpConfig, "TRUST_PROXY_HOPS" | "TRUSTED_PROXIES">,
): ProxyTrust {
  if (config.TRUSTED_PROXIES.length === 0) {
    const trustAll = config.TRUST_PROXY_HOPS > 0;
    return () => trustAll;
  }
  const proxies = new BlockList();
  for (const { network, prefix, family } of config.TRUSTED_PROXIES) {
    proxies.addSubnet(network, prefix, family);
  }
  return (peer) => {
    if (!peer) return false;
    // BlockList matches an IPv4-mapped IPv6 peer (::ffff:10.0.0.1) against IPv4 ranges too.
    try {
      return proxies.check(peer, peer.includes(":") ? "ipv6" : "ipv4");
    } catch {
      return false; // not an address at all
    }
  };
}
