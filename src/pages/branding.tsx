import { AsyncLocalStorage } from "node:async_hooks";
import type { MiddlewareHandler } from "hono";
import { z } from "zod";
import { brandingSchema } from "../config/branding.ts";
import type { BrandingConfig } from "../config/index.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";

// The operator's branding (APP_NAME, APP_LOGO_URL, APP_ACCENT_COLOR,
// SUPPORT_URL) on every page. The request's branding travels with the
// request (an AsyncLocalStorage entered by brandedPages) so that every page,
// present and future, gets it from the shared document shell without each
// route passing it down; one process can serve apps configured differently
// (the tests do), which a module-level setting could not.

export type Brand = {
  name: string;
  logoUrl: string | null;
  accent: string;
  /** Black or white, whichever reads better on the accent. */
  accentText: string;
  supportUrl: string | null;
};

/** The text colour that reads on `hex`: its relative luminance (WCAG) decides. */
export function textOn(hex: string): string {
  const digits = hex.slice(1);
  const full = digits.length === 3 ? [...digits].map((d) => d + d).join("") : digits;
  const channel = (i: number) => {
    const v = Number.parseInt(full.slice(i, i + 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
  const onWhite = 1.05 / (luminance + 0.05);
  // White while it meets WCAG AA (4.5:1), as buttons usually are; else the better of the two.
  return onWhite >= 4.5 || onWhite >= (luminance + 0.05) / 0.05 ? "#ffffff" : "#000000";
}

export function brandOf(config: BrandingConfig): Brand {
  return {
    name: config.APP_NAME,
    logoUrl: config.APP_LOGO_URL ?? null,
    accent: config.APP_ACCENT_COLOR,
    accentText: textOn(config.APP_ACCENT_COLOR),
    supportUrl: config.SUPPORT_URL ?? null,
  };
}

const defaultBrand = brandOf(brandingSchema.parse({}));
const requestBrand = new AsyncLocalStorage<Brand>();

/** Makes `branding` the brand of every page rendered while answering the request. */
export function brandedPages(branding: BrandingConfig): MiddlewareHandler {
  const brand = brandOf(branding);
  return (_c, next) => requestBrand.run(brand, next);
}

/** The brand of the request being answered (the default outside one). */
export function currentBrand(): Brand {
  return requestBrand.getStore() ?? defaultBrand;
}

/** A rounded square in the accent colour: the tab's icon when no logo is configured. */
export function faviconSvg(brand: Brand): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="${brand.accent}"/><path d="M9 26V13l7-5 7 5v13h-4v-8h-6v8z" fill="${brand.accentText}"/></svg>`;
}

export const faviconHref = (brand: Brand) =>
  brand.logoUrl ?? `data:image/svg+xml,${encodeURIComponent(faviconSvg(brand))}`;

/** GET /favicon.ico, for what browsers ask for on their own (a JSON response has no icon link). */
export function faviconRoutes(branding: BrandingConfig) {
  const svg = faviconSvg(brandOf(branding));
  const routes = new ApiRoutes();
  routes.add(
    operationsOf({ tag: "pages", access: "anyone" })("GET /favicon.ico", "getFavicon", {
      summary: "The browser tab's icon (SVG in the accent colour)",
      responses: {
        200: { description: "The icon", contentType: "image/svg+xml", body: z.string() },
      },
    }),
    (c) =>
      c.body(svg, 200, {
        "content-type": "image/svg+xml",
        "cache-control": "public, max-age=86400",
      }),
  );
  return routes;
}

/** The brand's logo (when there is one) and name, linking home. */
export function BrandMark({ suffix }: { suffix?: string }) {
  const brand = currentBrand();
  return (
    <a class="brand" href="/">
      {brand.logoUrl ? <img src={brand.logoUrl} alt="" height="28" /> : null}
      <span>
        {brand.name}
        {suffix ? <span class="brand-suffix"> {suffix}</span> : null}
      </span>
    </a>
  );
}

/** The footer of every page: the support link when there is one. */
export function SiteFooter() {
  const brand = currentBrand();
  return (
    <footer class="site-footer">
      <span>{brand.name}</span>
      {brand.supportUrl ? <a href={brand.supportUrl}>Help and support</a> : null}
    </footer>
  );
}

/** The accent as CSS variables, and the shared header and footer's look. */
export function brandCss(brand: Brand): string {
  return `:root{--accent:${brand.accent};--accent-text:${brand.accentText}}
.site-header{padding:.7rem 1.25rem}.brand{display:inline-flex;align-items:center;gap:.5rem;font-weight:700;color:inherit;text-decoration:none}.brand img{display:block;height:28px;width:auto;max-width:10rem}
.site-footer{display:flex;gap:1rem;flex-wrap:wrap;justify-content:center;padding:1rem;font-size:.85rem;color:#57606a}.site-footer a{color:inherit}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}`;
}
