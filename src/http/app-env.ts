import type { Logger } from "../logger.ts";

/** The typed context of every request: what middleware sets for handlers to read. */
export type AppEnv = {
  Variables: {
    requestId: string;
    logger: Logger;
    /** The client's address, through TRUST_PROXY_HOPS trusted proxies; null when unknown. */
    clientIp: string | null;
  };
};
