import { PasswordToggle } from "./password-toggle.tsx";

// The fields several forms ask for alike: an email address, a password (the
// current one, or one being chosen), an authenticator app's code.

export function EmailField(props: {
  autocomplete: "email" | "username";
  value?: string | undefined;
}) {
  return (
    <>
      <label for="email">Email</label>
      <input
        id="email"
        name="email"
        type="email"
        required
        autocomplete={props.autocomplete}
        value={props.value}
      />
    </>
  );
}

/**
 * A password field: the current password, or, given the policy's minimum
 * length, one being chosen (at most the longest the hashing accepts).
 */
export function PasswordField(props: {
  id: string;
  name?: string;
  label: string;
  minLength?: number;
}) {
  const choosing = props.minLength !== undefined;
  return (
    <>
      <label for={props.id}>{props.label}</label>
      <div class="password-box">
        <input
          id={props.id}
          name={props.name ?? props.id}
          type="password"
          required
          minlength={props.minLength}
          maxlength={choosing ? 128 : undefined}
          autocomplete={choosing ? "new-password" : "current-password"}
        />
        <PasswordToggle controls={props.id} />
      </div>
    </>
  );
}

/**
 * The six digits an authenticator app shows (a space in the middle is fine);
 * a page with several forms gives each its own id, and one where a recovery
 * code may stand in leaves it optional.
 */
export const AuthenticatorCodeField = (
  props: { id?: string; label?: string; optional?: boolean; autofocus?: boolean } = {},
) => (
  <>
    <label for={props.id ?? "code"}>{props.label ?? "Code from your authenticator app"}</label>
    <input
      id={props.id ?? "code"}
      name="code"
      type="text"
      inputmode="numeric"
      pattern="[0-9 ]{6,7}"
      autocomplete="one-time-code"
      required={!props.optional}
      autofocus={props.autofocus ?? true}
    />
  </>
);
