// Why an account action was refused. Domain code throws these; the routes
// turn them into problems (src/http/refusal-problem.ts), the admin page into
// a message on the page.

export class Refusal extends Error {}

export class UserNotFound extends Refusal {
  constructor() {
    super("No such user.");
  }
}

/** Gatehouse would be left without anyone able to administer it. */
export class LastAdministrator extends Refusal {
  constructor() {
    super("This is the last administrator: promote someone else first.");
  }
}

export class NoSignInMethodLeft extends Refusal {
  constructor() {
    super("This is your only way to sign in: set a password or link another provider first.");
  }
}

export class NotLinked extends Refusal {
  constructor(provider: string) {
    super(`No ${provider} account is linked.`);
  }
}

export class UsernameTaken extends Refusal {
  constructor() {
    super("That username is taken.");
  }
}

export class RuleExists extends Refusal {
  constructor() {
    super("That allowlist rule already exists.");
  }
}

export class RuleNotFound extends Refusal {
  constructor() {
    super("No such allowlist rule.");
  }
}

export class RecentSignInRequired extends Refusal {
  constructor() {
    super("Deleting your account needs a fresh sign-in: sign out, sign in again, then retry.");
  }
}
