import type { Context } from "hono";
import { z } from "zod";
import type { Config } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import type { AppEnv, Principal } from "../http/app-env.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { readBody } from "../http/json-body.ts";
import {
  passkeyNameInput,
  passkeyOptionsResponse,
  passkeyRegistrationInput,
} from "../http/passkey-bodies.ts";
import {
  listPasskeys,
  type PasskeyDeps,
  registerPasskey,
  registrationOptions,
  removePasskey,
} from "../passkeys/registration.ts";

// The signed-in user's passkeys. Adding or removing one needs a recent
// sign-in or step-up (REAUTH_MAX_AGE): a stolen session must not plant a
// passkey, which would be a way back in that outlives the session, nor
// remove the user's own. The options call is the one guarded for adding: the verify that
// follows needs the challenge those options stored for this user, and a
// person who just unlocked their authenticator should not be refused for
// the seconds it took.

const passkeyOperation = operationsOf({ tag: "account", access: "signed-in" });

const passkeyView = z.object({
  id: z.uuid(),
  name: z.string(),
  created_at: z.iso.datetime(),
  last_used_at: z.iso.datetime().nullable(),
  device_type: z.enum(["singleDevice", "multiDevice"]).meta({
    description: "multiDevice: a synced passkey its provider may copy to the user's other devices",
  }),
  backed_up: z.boolean().meta({ description: "The provider says it is backed up (synced)" }),
});
const listResponse = z.object({ passkeys: z.array(passkeyView) });
const registerBody = z.object({ name: passkeyNameInput, passkey: passkeyRegistrationInput });
const passkeyId = z.uuid();

const listOperation = passkeyOperation("GET /me/passkeys", "listOwnPasskeys", {
  summary: "The signed-in user's passkeys (name, created, last used)",
  responses: { 200: { description: "The passkeys", body: listResponse } },
});

const optionsOperation = passkeyOperation("POST /me/passkeys/options", "startPasskeyRegistration", {
  summary:
    "Start registering a passkey: WebAuthn creation options (a fresh challenge, the user's passkeys excluded); needs a recent sign-in",
  recentAuth: true,
  responses: {
    200: {
      description: "Options for navigator.credentials.create()",
      body: passkeyOptionsResponse,
    },
  },
});

const verifyOperation = passkeyOperation("POST /me/passkeys/verify", "finishPasskeyRegistration", {
  summary:
    "Finish registering a passkey: the authenticator's answer to the options, and the name the user gives it",
  body: registerBody,
  responses: {
    201: { description: "The passkey is registered", body: passkeyView },
    400: { description: "Invalid input" },
    409: { description: "This passkey is registered already" },
    422: {
      description:
        "The answer does not verify: challenge expired or used, another origin, no user verification",
    },
  },
});

const removeOperation = passkeyOperation("DELETE /me/passkeys/:id", "removeOwnPasskey", {
  summary: "Remove one of the signed-in user's passkeys; needs a recent sign-in",
  recentAuth: true,
  responses: {
    204: { description: "Removed" },
    404: { description: "No such passkey of the caller" },
  },
});

const toView = (p: Awaited<ReturnType<typeof listPasskeys>>[number]) =>
  passkeyView.parse({
    ...p,
    created_at: p.created_at.toISOString(),
    last_used_at: p.last_used_at?.toISOString() ?? null,
  });

export function mePasskeyRoutes(deps: PasskeyDeps & { config: Pick<Config, "http" | "session"> }) {
  const routes = new ApiRoutes();
  // Behind the signed-in gate, so there is a principal.
  const principalOf = (c: Context<AppEnv>) => c.get("principal") as Principal;
  routes.add(listOperation, async (c) => {
    const passkeys = await listPasskeys(deps, principalOf(c).user.user_id);
    return c.json(listResponse.parse({ passkeys: passkeys.map(toView) }));
  });

  routes.add(optionsOperation, async (c) => {
    const { user } = principalOf(c);
    const options = await registrationOptions(deps, {
      id: user.user_id,
      email: user.email,
      fullName: user.full_name,
    });
    c.header("cache-control", "no-store");
    return c.json(passkeyOptionsResponse.parse(options));
  });

  routes.add(verifyOperation, async (c) => {
    const body = await readBody(c, registerBody);
    const passkey = await registerPasskey(
      deps,
      principalOf(c).user.user_id,
      { name: body.name, response: body.passkey },
      requestAuditFields(c),
    );
    return c.json(toView(passkey), 201);
  });

  routes.add(removeOperation, async (c) => {
    const id = passkeyId.safeParse(c.req.param("id"));
    // 404 alike for a malformed id, a missing one and another user's: no probing.
    if (!id.success) throw new DomainError("passkey_not_found");
    await removePasskey(deps, principalOf(c).user.user_id, id.data, requestAuditFields(c));
    return c.body(null, 204);
  });

  return routes;
}
