import { z } from "zod";
import { ConfigError } from "./config-error.ts";
import type { RuntimeConfig } from "./runtime.ts";
import { urlWithScheme } from "./values.ts";

/** What the operator's users see: the product's name and logo, its colour, where to get help. */
export const brandingSchema = z.object({
  /** In every page's title and header and in every mail. */
  APP_NAME: z
    .string()
    .trim()
    .min(1, "expected a name")
    .max(60, "expected at most 60 characters")
    .regex(/^[^<>\p{Cc}]+$/u, "expected plain text (no < > or control characters)")
    .default("Gatehouse"),
  /** Shown beside the name in every page's header; https (http only in development). */
  APP_LOGO_URL: urlWithScheme(["https:", "http:"], "https://example.com/logo.svg"),
  /** The primary buttons' colour. */
  APP_ACCENT_COLOR: z
    .string()
    .trim()
    .regex(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, "expected a CSS hex colour like #1f883d")
    .default("#1f883d"),
  /** Linked from every page's footer and every mail. */
  SUPPORT_URL: urlWithScheme(["https:", "http:"], "https://help.example.com/"),
});

export type BrandingConfig = z.infer<typeof brandingSchema>;

/** Refuses a logo over plain http outside development: it would be mixed content on an https page. */
export function checkBranding(branding: BrandingConfig, runtime: RuntimeConfig): BrandingConfig {
  if (branding.APP_LOGO_URL?.startsWith("http:") && runtime.NODE_ENV !== "development") {
    throw new ConfigError("APP_LOGO_URL: expected an https URL (http only in development)");
  }
  return branding;
}
