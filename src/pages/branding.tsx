import { AsyncLocalStorage } from "node:async_hooks";
import type { MiddlewareHandler } from "hono";
import { z } from "zod";
import { brandingSchema } from "../config/branding.ts";
import type { BrandingConfig } from "../config/index.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import { themeSurfaces } from "./site-css.ts";

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
  /** The accent as link text on the light and the dark theme's surfaces. */
  accentInk: { light: string; dark: string };
  supportUrl: string | null;
};

type Rgb = [number, number, number];

const rgbOf = (hex: string): Rgb => {
  const digits = hex.slice(1);
  const full = digits.length === 3 ? [...digits].map((d) => d + d).join("") : digits;
  return [0, 2, 4].map((i) => Number.parseInt(full.slice(i, i + 2), 16)) as Rgb;
};
const hexOf = (rgb: Rgb) =>
  `#${rgb.map((v) => Math.round(v).toString(16).padStart(2, "0")).join("")}`;

/** WCAG relative luminance. */
function luminance(hex: string): number {
  const [r, g, b] = rgbOf(hex).map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as Rgb;
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio of two colours (1 to 21). */
export function contrast(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/** The text colour that reads on `hex`: its relative luminance (WCAG) decides. */
export function textOn(hex: string): string {
  const onWhite = contrast(hex, "#ffffff");
  const onBlack = contrast(hex, "#000000");
  // White while it meets WCAG AA (4.5:1), as buttons usually are; else the better of the two.
  return onWhite >= 4.5 || onWhite >= onBlack ? "#ffffff" : "#000000";
}

/**
 * The accent as text (links, focus rings) on a theme's `surfaces`: the accent
 * itself when it reads (4.5:1) on all of them, else mixed towards black (a
 * light theme) or white (a dark one) until it does.
 */
export function inkOn(accent: string, surfaces: readonly string[], towards: "black" | "white") {
  const target = towards === "black" ? 0 : 255;
  const start = rgbOf(accent);
  for (let step = 0; step <= 20; step++) {
    const mixed = hexOf(start.map((v) => v + ((target - v) * step) / 20) as Rgb);
    if (surfaces.every((s) => contrast(mixed, s) >= 4.5)) return mixed;
  }
  return towards === "black" ? "#000000" : "#ffffff";
}

export function brandOf(config: BrandingConfig): Brand {
  return {
    name: config.APP_NAME,
    logoUrl: config.APP_LOGO_URL ?? null,
    accent: config.APP_ACCENT_COLOR,
    accentText: textOn(config.APP_ACCENT_COLOR),
    accentInk: {
      light: inkOn(config.APP_ACCENT_COLOR, themeSurfaces.light, "black"),
      dark: inkOn(config.APP_ACCENT_COLOR, themeSurfaces.dark, "white"),
    },
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

/** The accent as CSS variables, before the shared stylesheet (site-css.ts), which uses them. */
export function brandCss(brand: Brand): string {
  return `:root{--accent:${brand.accent};--accent-text:${brand.accentText};--accent-ink:${brand.accentInk.light};--accent-ink-dark:${brand.accentInk.dark}}`;
}
