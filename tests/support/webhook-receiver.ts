import { afterAll } from "bun:test";
import { Webhook } from "standardwebhooks";
import { appTestSetup } from "./app.ts";

// A webhook receiver on 127.0.0.1, as an app behind Gatehouse would run one:
// every request is verified with standardwebhooks' own Webhook.verify, and
// kept (verified or not) so a test can count what arrived.

export type ReceivedDelivery = {
  id: string;
  verified: boolean;
  payload: { type: string; timestamp: string; data: Record<string, unknown> } | null;
  headers: Record<string, string>;
};

export type WebhookReceiver = {
  /** http://127.0.0.1:<port>/hook */
  url: string;
  received: ReceivedDelivery[];
  /** The endpoint's secret, once the test has added the endpoint. */
  useSecret(secret: string): void;
  /** Answers the next `count` requests with `status` (500 by default), then 204 again. */
  failNext(count: number, status?: number): void;
  /** Holds requests unanswered until release() (a receiver that hangs). */
  hold(): void;
  release(): void;
  /** Waits until `predicate` holds for what arrived (polling), or throws after `timeoutMs`. */
  waitFor(predicate: (received: ReceivedDelivery[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Verified deliveries of one event type. */
  ofType(type: string): ReceivedDelivery[];
  stop(): void;
};

/**
 * What most webhook tests run against: a receiver, and their own database
 * with an app over it (`env` added to its environment), all gone after the file.
 */
export async function webhookTestSetup(env: Record<string, string> = {}) {
  const receiver = startWebhookReceiver();
  afterAll(() => receiver.stop());
  const { db, app } = await appTestSetup(env);
  return { db, app, receiver };
}

export function startWebhookReceiver(): WebhookReceiver {
  let secret: string | null = null;
  let failures: { left: number; status: number } = { left: 0, status: 500 };
  let held: (() => void)[] | null = null;
  const received: ReceivedDelivery[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      const body = await request.text();
      const headers = Object.fromEntries(request.headers.entries());
      let payload: ReceivedDelivery["payload"] = null;
      let verified = false;
      try {
        payload = new Webhook(secret ?? "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").verify(
          body,
          headers,
        ) as ReceivedDelivery["payload"];
        verified = true;
      } catch {
        verified = false;
      }
      received.push({ id: headers["webhook-id"] ?? "", verified, payload, headers });
      if (held) await new Promise<void>((resolve) => held?.push(resolve));
      if (failures.left > 0) {
        failures.left--;
        return new Response("not now", { status: failures.status });
      }
      return new Response(null, { status: 204 });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/hook`,
    received,
    useSecret: (s) => {
      secret = s;
    },
    failNext: (count, status = 500) => {
      failures = { left: count, status };
    },
    hold: () => {
      held = [];
    },
    release: () => {
      const waiting = held ?? [];
      held = null;
      for (const resolve of waiting) resolve();
    },
    waitFor: async (predicate, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline) {
          throw new Error(
            `webhooks did not arrive in time: ${JSON.stringify(received.map((r) => [r.payload?.type, r.verified]))}`,
          );
        }
        await Bun.sleep(25);
      }
    },
    ofType: (type) => received.filter((r) => r.verified && r.payload?.type === type),
    stop: () => {
      server.stop(true);
    },
  };
}
