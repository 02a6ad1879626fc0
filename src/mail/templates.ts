// Small templates: every mail has a plain-text body (read by any client,
// and by people who distrust HTML mail) and an equivalent HTML body.
// Only links built from PUBLIC_URL and fixed wording go into them.

export type MailContent = { subject: string; text: string; html: string };

const escapeHtml = (value: string) => Bun.escapeHTML(value);

function compose(subject: string, paragraphs: string[], action?: { label: string; url: string }) {
  const text = [...paragraphs, ...(action ? [`${action.label}: ${action.url}`] : [])].join("\n\n");
  const html = `<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">
${paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join("\n")}
${action ? `<p><a href="${escapeHtml(action.url)}">${escapeHtml(action.label)}</a></p>\n<p style="color: #555">${escapeHtml(action.url)}</p>` : ""}
</body></html>`;
  return { subject, text: `${text}\n`, html };
}

const hours = (ms: number) => {
  const h = Math.round(ms / 3_600_000);
  return h === 1 ? "1 hour" : `${h} hours`;
};

export function verificationMail(link: string, ttlMs: number): MailContent {
  return compose(
    "Confirm your email address",
    [
      "Someone (hopefully you) created a Gatehouse account with this email address.",
      `Confirm the address within ${hours(ttlMs)}. If it was not you, ignore this message: without confirmation the address stays unverified.`,
    ],
    { label: "Confirm my email address", url: link },
  );
}

export function passwordResetMail(link: string, ttlMs: number): MailContent {
  return compose(
    "Reset your password",
    [
      "Someone asked to reset the password of the Gatehouse account with this email address.",
      `The link works once, within ${hours(ttlMs)}, and signs you out everywhere. If you did not ask, ignore this message: your password stays as it is.`,
    ],
    { label: "Choose a new password", url: link },
  );
}

/** Sent instead of a verification mail when the address already has an account. */
export function existingAccountMail(loginUrl: string, forgotUrl: string): MailContent {
  return compose("Someone tried to create an account with your email address", [
    "Someone tried to sign up to Gatehouse with this email address, which already has an account. No new account was created.",
    `If it was you, sign in at ${loginUrl}. Forgot your password? Ask for a new one at ${forgotUrl}. Otherwise, ignore this message.`,
  ]);
}

export function passwordChangedMail(forgotUrl: string): MailContent {
  return compose("Your password was changed", [
    "The password of your Gatehouse account was just changed, and your other sessions were signed out.",
    `If it was not you, reset your password at once at ${forgotUrl} and tell your administrator.`,
  ]);
}
