import { z } from "zod";
import { hasCode } from "../errors.ts";
import {
  addAllowlistRule,
  allowlistRuleBody,
  allowlistRuleImpact,
  allowlistRules,
  deleteAllowlistRuleAudited,
  toImpactView,
  toRuleView,
} from "../gate/allowlist.ts";
import { commandLineActor } from "../users/bootstrap.ts";
import { type CliCommand, CliError, output, withDatabase } from "./command.ts";

const help = `usage: gatehouse allowlist <add KIND VALUE | list | impact ID | remove ID> [--json]

  add KIND VALUE   add a rule that whitelists matching users at sign-in:
                     email        alice@example.com
                     domain       example.com (verified emails at that domain)
                     github_org   acme
                     github_team  acme/platform
                   Adding a rule that exists changes nothing (exit 0).
  list             every rule
  impact ID        how many users would lose access if the rule were removed
  remove ID        delete a rule by its id: the users it alone let in are
                   pending again and signed out (a user another rule or
                   ADMIN_EMAILS also lets in keeps access; a user an
                   administrator approved by hand is never touched)

A new rule applies from each user's next sign-in. Changes are audited as
admin.allowlist_rule_added / admin.allowlist_rule_deleted, each user who
loses access as user.unapproved. To narrow a rule, add the narrower one
first, then remove the broader one.`;

type RuleView = ReturnType<typeof toRuleView>;
const line = (r: RuleView) => `${r.id}  ${r.kind.padEnd(11)}  ${r.value}`;

const losing = (view: ReturnType<typeof toImpactView>) =>
  `${view.unapproved} user(s) lose access (pending again, signed out); ${view.kept} keep it through another rule or ADMIN_EMAILS`;

function ruleIdOf(args: readonly string[], action: string): string {
  const [id, ...extra] = args;
  if (!id || extra.length > 0) throw new CliError(`allowlist ${action} needs exactly one ID`);
  if (!z.uuid().safeParse(id).success) throw new CliError(`no allowlist rule with id ${id}`);
  return id;
}

function onlyKnownRule<T>(id: string, work: Promise<T>): Promise<T> {
  return work.catch((error: Error) => {
    if (hasCode(error, "rule_not_found")) throw new CliError(`no allowlist rule with id ${id}`);
    if (hasCode(error, "last_admin")) {
      throw new CliError(
        "the rule is all that lets the last administrator in: approve them by hand first",
      );
    }
    throw error;
  });
}

export const allowlistCommand: CliCommand = {
  summary: "manage allowlist rules: allowlist add KIND VALUE | list | impact ID | remove ID",
  help,
  run: async ({ positionals, json }) => {
    const [action, ...args] = positionals;
    switch (action) {
      case "add": {
        const [kind, value, ...extra] = args;
        if (!kind || !value || extra.length > 0) {
          throw new CliError("allowlist add needs KIND VALUE");
        }
        const parsed = allowlistRuleBody.safeParse({ kind, value });
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new CliError(
            issue?.path[0] === "value"
              ? `invalid ${kind} value '${value}': ${issue.message}`
              : `unknown KIND '${kind}' (email, domain, github_org or github_team)`,
          );
        }
        const { rule, created } = await withDatabase(
          async ({ db, logger }) => {
            try {
              const added = await addAllowlistRule(
                { pool: db.pool, logger },
                commandLineActor(),
                parsed.data,
              );
              return { rule: added, created: true };
            } catch (error) {
              if (!hasCode(error, "rule_exists")) throw error;
              const existing = (await allowlistRules(db.pool)).find(
                (r) => r.kind === parsed.data.kind && r.value === parsed.data.value,
              );
              if (!existing) throw error;
              return { rule: existing, created: false };
            }
          },
          { migrate: true },
        );
        const view = toRuleView(rule);
        output(json, { ...view, created }, () =>
          created ? `added ${line(view)}` : `already present ${line(view)}`,
        );
        return 0;
      }
      case "list": {
        if (args.length > 0) throw new CliError("allowlist list takes no arguments");
        const rules = (
          await withDatabase(({ db }) => allowlistRules(db.pool), { migrate: true })
        ).map(toRuleView);
        output(json, rules, () =>
          rules.length === 0 ? "no allowlist rules" : rules.map(line).join("\n"),
        );
        return 0;
      }
      case "impact": {
        const id = ruleIdOf(args, "impact");
        const impact = await withDatabase(
          ({ config, db }) => onlyKnownRule(id, allowlistRuleImpact({ pool: db.pool, config }, id)),
          { migrate: true },
        );
        const view = toImpactView(impact);
        output(json, view, () => `${line(view.rule)}\n${losing(view)}`);
        return 0;
      }
      case "remove": {
        const id = ruleIdOf(args, "remove");
        const impact = await withDatabase(
          ({ config, db, logger }) =>
            onlyKnownRule(
              id,
              deleteAllowlistRuleAudited({ pool: db.pool, logger, config }, commandLineActor(), id),
            ),
          { migrate: true },
        );
        const view = toImpactView(impact);
        output(json, view, () => `removed ${line(view.rule)}\n${losing(view)}`);
        return 0;
      }
      default:
        throw new CliError(
          "allowlist needs add, list, impact or remove (see gatehouse allowlist --help)",
        );
    }
  },
};
