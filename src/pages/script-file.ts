import { z } from "zod";
import { staticAsset } from "../http/static-asset.ts";

// The pages' script files: one content type, one documented answer.

export const javascript = "text/javascript; charset=utf-8";

/** A script file served from memory by staticAsset (ETag, gzip). */
export const scriptFile = (text: string) => staticAsset(text, javascript);

/** How a script file's route is documented. */
export const scriptResponse = {
  200: { description: "JavaScript", contentType: "text/javascript", body: z.string() },
  304: { description: "Not modified (If-None-Match)" },
};
