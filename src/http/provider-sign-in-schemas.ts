import { z } from "zod";

// What signing in with a provider reads and answers: the list of ways in,
// the start's query, the provider's redirect back.

export const providersResponse = z.object({
  providers: z.array(
    z.object({
      id: z.string().meta({ description: "github, google, ..., oidc" }),
      name: z.string(),
      login_url: z.string().meta({ description: "Where to send the browser to sign in" }),
    }),
  ),
  password: z
    .object({ login_url: z.string(), signup_url: z.string() })
    .meta({ description: "Email + password accounts: POST JSON to these" }),
  email_code: z
    .object({ request_url: z.string(), verify_url: z.string() })
    .meta({ description: "Codes sent by mail: POST {email}, then {email, code}" }),
});

export const loginQuery = z.object({
  redirect_to: z.string().optional().meta({
    description:
      "Where to land after signing in: a path, or an origin in ALLOWED_REDIRECT_ORIGINS; anything else lands on /",
  }),
});

export const callbackQuery = z.looseObject({
  code: z.string().optional(),
  state: z.string().optional(),
  error: z.string().optional().meta({ description: "access_denied when consent was refused" }),
  error_description: z.string().optional(),
});
