// The one script Gatehouse's pages run: the passkey (WebAuthn) ceremonies,
// which exist only as the browser's navigator.credentials API.
// @simplewebauthn/browser, loaded before this file, turns the server's JSON
// options into that call and the authenticator's answer back into JSON; the
// server checks everything the answer claims. Without WebAuthn (or without
// JavaScript) the passkey controls stay hidden and every other form works.

(() => {
  const webauthn = window.SimpleWebAuthnBrowser;
  if (!webauthn?.browserSupportsWebAuthn()) return;

  /** A JSON request to our own API; a refusal becomes an Error with the problem's sentence. */
  async function call(method, path, body) {
    const headers = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 204) return null;
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error(answer.detail || answer.title || `The server answered ${response.status}.`);
    }
    return answer;
  }

  function say(status, text, isError) {
    status.textContent = text;
    status.className = isError ? "error" : "muted";
    status.hidden = !text;
  }

  function problemText(error) {
    // The browser's own refusal: the prompt was closed, or no passkey matched.
    if (error?.name === "NotAllowedError")
      return "No passkey was used. Try again, or use another way.";
    return error?.message || "Something went wrong.";
  }

  // Signing in (the sign-in page) and the second factor (the second-factor
  // page): options, the authenticator signs, the answer goes back, on we go.
  const ceremonies = {
    "sign-in": { options: "/auth/passkey/options", verify: "/auth/passkey/verify" },
    "second-factor": { options: "/auth/mfa/passkey/options", verify: "/auth/mfa" },
  };
  for (const box of document.querySelectorAll("[data-passkey-ceremony]")) {
    const paths = ceremonies[box.dataset.passkeyCeremony];
    const button = box.querySelector("button");
    const status = box.querySelector("[role=status]");
    if (!paths || !button || !status) continue;
    const redirectTo = box.dataset.redirectTo || "/";
    box.hidden = false;
    button.addEventListener("click", async () => {
      button.disabled = true;
      say(status, "Waiting for your passkey…", false);
      try {
        const optionsJSON = await call("POST", paths.options);
        const passkey = await webauthn.startAuthentication({ optionsJSON });
        const answer = await call("POST", paths.verify, { passkey });
        if (answer?.mfa_required) {
          location.assign(`/auth/mfa?redirect_to=${encodeURIComponent(redirectTo)}`);
          return;
        }
        location.assign(redirectTo);
      } catch (error) {
        say(status, problemText(error), true);
        button.disabled = false;
      }
    });
  }

  // The account's passkeys: add one under a name, remove one.
  for (const form of document.querySelectorAll("form[data-passkey-register]")) {
    const status = form.querySelector("[role=status]");
    const button = form.querySelector("button");
    form.hidden = false;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      button.disabled = true;
      say(status, "Follow your browser's prompt to create the passkey…", false);
      try {
        const optionsJSON = await call("POST", "/me/passkeys/options");
        const passkey = await webauthn.startRegistration({ optionsJSON });
        await call("POST", "/me/passkeys/verify", { name: form.elements.name.value, passkey });
        location.assign("/account/passkeys?notice=added");
      } catch (error) {
        say(status, problemText(error), true);
        button.disabled = false;
      }
    });
  }
  for (const button of document.querySelectorAll("button[data-passkey-remove]")) {
    const status = document.getElementById("passkey-list-status");
    button.hidden = false;
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await call("DELETE", `/me/passkeys/${encodeURIComponent(button.dataset.passkeyRemove)}`);
        location.assign("/account/passkeys?notice=removed");
      } catch (error) {
        if (status) say(status, problemText(error), true);
        button.disabled = false;
      }
    });
  }
})();
