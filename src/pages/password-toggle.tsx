import { readFileSync } from "node:fs";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import { scriptFile, scriptResponse } from "./script-file.ts";

// The show/hide button of a password field: progressive enhancement, so the
// button is hidden in the HTML and shown by the script (password-toggle.js).

export const passwordToggleScript = "/assets/password-toggle.js";

const script = readFileSync(new URL("./password-toggle.js", import.meta.url), "utf8");

/**
 * The button beside the password field `controls` names. Its name is its
 * text ("Show", then "Hide"), so the field's label stays the only one that
 * says "Password".
 */
export function PasswordToggle(props: { controls: string }) {
  return (
    <button type="button" data-password-toggle aria-controls={props.controls} hidden>
      Show
    </button>
  );
}

export function passwordToggleRoutes() {
  return new ApiRoutes().add(
    operationsOf({ tag: "pages", access: "anyone" })(
      "GET /assets/password-toggle.js",
      "getPasswordToggleScript",
      { summary: "The pages' show/hide button for password fields", responses: scriptResponse },
    ),
    scriptFile(script),
  );
}
