import { z } from "zod";
import { allowlistKinds } from "../gate/allowlist.ts";

// An allowlist rule as the API shows it: in the rule routes, and in a user's
// access explanation (the rule that let them in).

export const allowlistRuleResponse = z
  .object({
    id: z.uuid(),
    kind: z.enum(allowlistKinds),
    value: z.string(),
    created_by: z.uuid().nullable(),
    created_at: z.iso.datetime(),
  })
  .meta({ id: "AllowlistRule", description: "Who may pass the gate without an approval" });
