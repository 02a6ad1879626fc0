// Who the provider says the person is, reduced to what fits our columns. Every
// provider (social or OpenID Connect) passes its answer through profileOf, so
// the limits are the same whoever signed the person in.

export type Profile = {
  providerUserId: string;
  /** Counts for linking and rules only when `emailVerified`. */
  email: string | null;
  emailVerified: boolean;
  fullName: string | null;
  avatarUrl: string | null;
};

const emailShape = /^[^@\s]+@[^@\s]+$/;

/** Keeps an email of plausible shape, a bounded name and an http(s) avatar; drops the rest. */
export function profileOf(
  providerUserId: string,
  email: string | null | undefined,
  emailVerified: boolean,
  fullName: string | null | undefined,
  avatarUrl: string | null | undefined,
): Profile {
  const cleanEmail = email && email.length <= 254 && emailShape.test(email) ? email : null;
  return {
    providerUserId,
    email: cleanEmail,
    emailVerified: cleanEmail !== null && emailVerified,
    fullName: fullName?.trim().slice(0, 200) || null,
    avatarUrl:
      avatarUrl && avatarUrl.length <= 2048 && /^https?:\/\//.test(avatarUrl) ? avatarUrl : null,
  };
}
