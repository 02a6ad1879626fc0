import type { AcrRequest } from "./acr.ts";

// The `claims` request parameter (OpenID Connect Core §5.5): a JSON object
// whose `id_token` and `userinfo` members name claims, each null or
// {essential, value, values}. Members and claims we do not know are ignored,
// as §5.5 says; anything malformed is invalid_request.
//
// A user's claims (email, email_verified, name, preferred_username,
// picture, groups) are released by the scopes the request was granted, in
// the ID token and at userinfo alike (claims.ts): naming one here releases
// it only where its scope was granted, since consent is given per scope. So
// what this parameter changes is `acr`: asked for, it is reported (and with
// values, sought: authorization-decision.ts).

/** What the claims parameter asked for that the scopes do not already say. */
export type ClaimsRequest = {
  /** The acr asked for (in either member; the ID token's wins). */
  acr: AcrRequest | null;
  /** Whether the ID token is to report the acr. */
  acrInIdToken: boolean;
  /** Whether userinfo is to report the acr. */
  acrAtUserinfo: boolean;
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const isClaimValue = (value: unknown) =>
  typeof value === "string" || typeof value === "number" || typeof value === "boolean";

/** The claims parameter read, or why it is refused (an invalid_request's description). */
export function readClaimsParameter(text: string): { ok: ClaimsRequest } | { refused: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { refused: "claims is not JSON." };
  }
  if (!isObject(parsed)) return { refused: "claims must be a JSON object." };
  const acr: Record<"id_token" | "userinfo", AcrRequest | null> = {
    id_token: null,
    userinfo: null,
  };
  for (const member of ["id_token", "userinfo"] as const) {
    const requested = parsed[member];
    if (requested === undefined) continue;
    if (!isObject(requested)) return { refused: `claims.${member} must be a JSON object.` };
    for (const [name, request] of Object.entries(requested)) {
      if (request !== null && !isObject(request)) {
        return { refused: `claims.${member}.${name} must be null or an object.` };
      }
      const { essential, value, values }: Record<string, unknown> = request ?? {};
      if (essential !== undefined && typeof essential !== "boolean") {
        return { refused: `claims.${member}.${name}.essential must be true or false.` };
      }
      if (value !== undefined && !isClaimValue(value)) {
        return { refused: `claims.${member}.${name}.value must be a single value.` };
      }
      if (values !== undefined && !(Array.isArray(values) && values.every(isClaimValue))) {
        return { refused: `claims.${member}.${name}.values must be an array of values.` };
      }
      if (name === "acr") {
        const asked = values !== undefined ? values : value !== undefined ? [value] : [];
        if (!asked.every((v) => typeof v === "string")) {
          return { refused: `claims.${member}.acr values must be strings.` };
        }
        acr[member] = { values: asked as string[], essential: essential === true };
      }
    }
  }
  return {
    ok: {
      acr: acr.id_token ?? acr.userinfo,
      acrInIdToken: acr.id_token !== null,
      acrAtUserinfo: acr.userinfo !== null,
    },
  };
}
