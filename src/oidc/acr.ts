import { hasSecondFactor } from "../sessions/sessions.ts";

// Authentication context classes (OpenID Connect Core §2 `acr`), derived
// from how the sign-in was proved (its RFC 8176 `amr`). Three classes, each
// meeting the ones after it:
//
// - `phr` (OpenID Connect EAP ACR Values 1.0, "phishing-resistant"): a
//   passkey was one of two factors. Its signature is bound to our origin, so
//   a look-alike site that relays the user's answers cannot finish the
//   sign-in.
// - `urn:gatehouse:acr:mfa`: two factors (a password, mailed code or
//   provider, and an authenticator code, recovery code or passkey; or a
//   provider whose own second factor MFA_TRUST_PROVIDER_AMR accepts).
// - `urn:gatehouse:acr:sfa`: one factor.

export const acrPhishingResistant = "phr";
export const acrMultiFactor = "urn:gatehouse:acr:mfa";
export const acrSingleFactor = "urn:gatehouse:acr:sfa";

/** Strongest first: discovery's acr_values_supported. */
export const supportedAcrValues = [acrPhishingResistant, acrMultiFactor, acrSingleFactor] as const;

/** What a request asked of the sign-in: acr_values, or the claims parameter's acr. */
export type AcrRequest = {
  /** In order of preference; empty: any class, the acr is only to be reported. */
  values: readonly string[];
  /** The claims parameter's essential acr: unmet, the request fails (Core §5.5.1.1). */
  essential: boolean;
};

/** The classes a sign-in proved with `amr` meets, strongest first. */
export function acrMet(amr: readonly string[]): string[] {
  if (!hasSecondFactor(amr)) return [acrSingleFactor];
  const passkey = amr.includes("hwk") || amr.includes("swk");
  return passkey ? [...supportedAcrValues] : [acrMultiFactor, acrSingleFactor];
}

/**
 * The acr to report for a sign-in proved with `amr`: the first requested
 * class it meets (`met`), or else the strongest it does meet (`met: false`).
 */
export function chooseAcr(
  request: AcrRequest,
  amr: readonly string[],
): { acr: string; met: boolean } {
  const met = acrMet(amr);
  if (request.values.length === 0) return { acr: met[0] as string, met: true };
  const wanted = request.values.find((value) => met.includes(value));
  return wanted ? { acr: wanted, met: true } : { acr: met[0] as string, met: false };
}

/**
 * What a fresh sign-in needs the user to have to meet the request: any
 * second factor (urn:gatehouse:acr:mfa asked for), a passkey (only phr), or
 * nothing that would help (only classes a fresh sign-in always meets, or
 * unknown ones).
 */
export function stepUpNeeds(request: AcrRequest): "second_factor" | "passkey" | null {
  if (request.values.includes(acrMultiFactor)) return "second_factor";
  return request.values.includes(acrPhishingResistant) ? "passkey" : null;
}
