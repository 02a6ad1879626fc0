// Small templates: every mail has a plain-text body (read by any client,
// and by people who distrust HTML mail) and an equivalent HTML body.
// Only links built from PUBLIC_URL and fixed wording go into them. A
// template is a draft: the mailer completes it with the operator's branding
// (the product's name in the wording, the support link at the foot).

export type MailContent = { subject: string; text: string; html: string };

/** What a mail says about the operator: APP_NAME and SUPPORT_URL. */
export type MailBrand = { name: string; supportUrl: string | null };

/** A mail waiting for its branding (Mailer.send completes it). */
export type MailDraft = (brand: MailBrand) => MailContent;

const escapeHtml = (value: string) => Bun.escapeHTML(value);

type Action = { label: string; url: string };

/** Paragraphs, then each action's link; an action may follow a paragraph of its own. */
function compose(
  brand: MailBrand,
  subject: string,
  paragraphs: string[],
  ...actions: { label: string; url: string; before?: string }[]
) {
  const textOf = (a: Action & { before?: string }) => [
    ...(a.before ? [a.before] : []),
    `${a.label}: ${a.url}`,
  ];
  const htmlOf = (a: Action & { before?: string }) =>
    `${a.before ? `<p>${escapeHtml(a.before)}</p>\n` : ""}<p><a href="${escapeHtml(a.url)}">${escapeHtml(a.label)}</a></p>\n<p style="color: #555">${escapeHtml(a.url)}</p>`;
  const signature = brand.supportUrl
    ? `${brand.name} · Help and support: ${brand.supportUrl}`
    : brand.name;
  const text = [...paragraphs, ...actions.flatMap(textOf), `-- \n${signature}`].join("\n\n");
  const footer = brand.supportUrl
    ? `${escapeHtml(brand.name)} · <a href="${escapeHtml(brand.supportUrl)}">Help and support</a>`
    : escapeHtml(brand.name);
  const html = `<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">
${paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join("\n")}
${actions.map(htmlOf).join("\n")}
<p style="color: #555; font-size: small; border-top: 1px solid #ddd; padding-top: .5em">${footer}</p>
</body></html>`;
  return { subject, text: `${text}\n`, html };
}

const hours = (ms: number) => {
  const h = Math.round(ms / 3_600_000);
  return h === 1 ? "1 hour" : `${h} hours`;
};

/**
 * Confirming needs the account's password too (the link's page asks to sign
 * in first): a mailbox holder who never chose that password did not create
 * the account, and gets a second link that takes it over instead.
 */
export function verificationMail(
  links: { confirm: string; notMe: string },
  ttlMs: number,
): MailDraft {
  return (brand) =>
    compose(
      brand,
      "Confirm your email address",
      [
        `Someone (hopefully you) created an account on ${brand.name} with this email address.`,
        `If it was you, confirm the address within ${hours(ttlMs)}: the page asks you to sign in with the password you chose, then confirms.`,
      ],
      { label: "Confirm my email address", url: links.confirm },
      {
        before:
          "If it was not you, someone else chose that password. Do not confirm: take the account over instead. You choose a new password, theirs stops working and every session of the account ends.",
        label: "This was not me",
        url: links.notMe,
      },
    );
}

export function passwordResetMail(link: string, ttlMs: number): MailDraft {
  return (brand) =>
    compose(
      brand,
      "Reset your password",
      [
        `Someone asked to reset the password of the ${brand.name} account with this email address.`,
        `The link works once, within ${hours(ttlMs)}, and signs you out everywhere. If you did not ask, ignore this message: your password stays as it is.`,
      ],
      { label: "Choose a new password", url: link },
    );
}

/** Sent instead of a verification mail when the address already has an account. */
export function existingAccountMail(loginUrl: string, forgotUrl: string): MailDraft {
  return (brand) =>
    compose(brand, "Someone tried to create an account with your email address", [
      `Someone tried to sign up to ${brand.name} with this email address, which already has an account. No new account was created.`,
      `If it was you, sign in at ${loginUrl}. Forgot your password? Ask for a new one at ${forgotUrl}. Otherwise, ignore this message.`,
    ]);
}

export function passwordChangedMail(forgotUrl: string): MailDraft {
  return (brand) =>
    compose(brand, "Your password was changed", [
      `The password of your ${brand.name} account was just changed, and your other sessions were signed out.`,
      `If it was not you, reset your password at once at ${forgotUrl} and tell your administrator.`,
    ]);
}

const minutes = (ms: number) => {
  const m = Math.round(ms / 60_000);
  return m === 1 ? "1 minute" : `${m} minutes`;
};

/**
 * The code is the whole credential: it is in the subject too, so a phone's
 * notification shows it, and no link carries it (a mail scanner that follows
 * links would otherwise use it up); the page to type it in is named.
 */
export function signInCodeMail(code: string, ttlMs: number, signInUrl: string): MailDraft {
  return (brand) =>
    compose(brand, `${code} is your ${brand.name} sign-in code`, [
      `Your sign-in code is ${code}`,
      `Type it on the sign-in page (${signInUrl}) within ${minutes(ttlMs)}. It works once, and a newer code replaces it.`,
      "If you did not ask for it, ignore this message: nobody can sign in without the code. Never give it to anyone who asks for it.",
    ]);
}

/** After a recovery code was used: each one is a way in that bypasses the authenticator. */
export function recoveryCodeUsedMail(left: number, accountUrl: string): MailDraft {
  const remaining =
    left === 0
      ? "You have no recovery codes left."
      : left === 1
        ? "You have 1 recovery code left."
        : `You have ${left} recovery codes left.`;
  return (brand) =>
    compose(brand, "A recovery code was used to sign in", [
      `A recovery code of your ${brand.name} account was just used instead of your authenticator app. ${remaining}`,
      `Sign in at ${accountUrl} and make a new set of recovery codes (the old ones stop working). If it was not you, change your password and tell your administrator at once.`,
    ]);
}

export function secondFactorsResetMail(signInUrl: string): MailDraft {
  return (brand) =>
    compose(
      brand,
      "Your second factor was reset",
      [
        `An administrator turned off the second factor of your ${brand.name} account (the authenticator app and its recovery codes).`,
        "Set up a new authenticator once you are signed in. If you did not ask for this, tell your administrator at once.",
      ],
      { label: "Sign in", url: signInUrl },
    );
}

/** One line of the approval digest: who, how they signed up, when. */
export type WaitingLine = { who: string; method: string; since: Date; unverified: boolean };

/**
 * To an administrator: everyone waiting for approval. Names and addresses are
 * what the newcomers typed or their provider said; they are shown as text,
 * never as links, so the digest cannot be used to send an admin elsewhere.
 */
export function approvalDigestMail(
  waiting: readonly WaitingLine[],
  total: number,
  adminUrl: string,
): MailDraft {
  const line = (w: WaitingLine) =>
    `${w.who}: ${w.method}${w.unverified ? ", address not confirmed" : ""}, waiting since ${w.since.toISOString().replace("T", " ").slice(0, 16)} UTC`;
  const more = total > waiting.length ? [`And ${total - waiting.length} more.`] : [];
  return (brand) =>
    compose(
      brand,
      total === 1 ? "1 user is waiting for approval" : `${total} users are waiting for approval`,
      [
        total === 1
          ? `Someone is waiting for your approval on ${brand.name}:`
          : `${total} people are waiting for your approval on ${brand.name}:`,
        ...waiting.map(line),
        ...more,
        "Approve or deny them on the admin page. You get at most one such mail in a while, listing everyone still waiting.",
      ],
      { label: "Open the admin page", url: adminUrl },
    );
}

export function accountApprovedMail(appUrl: string): MailDraft {
  return (brand) =>
    compose(
      brand,
      "Your account was approved",
      [
        `An administrator approved your ${brand.name} account: you can sign in and use the app now.`,
      ],
      { label: "Open the app", url: appUrl },
    );
}

/** The reason is an administrator's own words, passed on as text (escaped in the HTML part). */
export function accountDeniedMail(reason: string): MailDraft {
  return (brand) =>
    compose(brand, "Your account was not approved", [
      `An administrator declined your ${brand.name} account, which cannot be used to sign in.`,
      `The reason given: ${reason}`,
      "If you think this is a mistake, contact your administrator.",
    ]);
}
