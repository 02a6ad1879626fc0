import type { SecurityOverview } from "../../mfa/security-overview.ts";
import type { linkedAccountView } from "../../users/user-record.ts";
import { StepUpForm } from "../step-up-form.tsx";
import { when } from "../utc-time.ts";
import { accountPath } from "./path.ts";

// The account center's linked providers: each with its Unlink form, and a
// Link button for every enabled one not linked yet (after a step-up).

/** A linked provider account as the section lists it. */
export type Linked = ReturnType<typeof linkedAccountView>;

const providerLabels: Record<string, string> = {
  github: "GitHub",
  google: "Google",
  microsoft: "Microsoft",
  oidc: "Single sign-on",
};
const providerLabel = (id: string) => providerLabels[id] ?? id;

function LinkProviders(props: {
  unlinked: readonly { id: string; label: string }[];
  recent: boolean;
  stepUp: SecurityOverview["stepUp"];
}) {
  if (props.unlinked.length === 0) return null;
  if (!props.recent) {
    return (
      <>
        <p class="muted">To link another provider, confirm it is you first.</p>
        <StepUpForm
          proof={props.stepUp}
          id="link-reauth"
          redirectTo={`${accountPath}?notice=reauthenticated#providers`}
        />
      </>
    );
  }
  return (
    <div class="link-buttons">
      {props.unlinked.map((p) => (
        <form method="post" action={`${accountPath}/providers/${p.id}/link`}>
          <button type="submit" class="secondary">
            Link {p.label}
          </button>
        </form>
      ))}
    </div>
  );
}

export function ProvidersSection(props: {
  linked: readonly Linked[];
  providers: readonly { id: string; label: string }[];
  recent: boolean;
  stepUp: SecurityOverview["stepUp"];
}) {
  const unlinked = props.providers.filter((p) => !props.linked.some((a) => a.provider === p.id));
  return (
    <section aria-labelledby="providers-heading" id="providers">
      <h2 id="providers-heading">Linked providers</h2>
      {props.linked.length === 0 ? (
        <p class="muted">No provider is linked to this account.</p>
      ) : (
        <ul class="rows">
          {props.linked.map((a) => (
            <li>
              <div>
                <strong>{providerLabel(a.provider)}</strong>
                <br />
                <span class="muted">
                  {a.email ?? "no address"}, linked {when(a.created_at)}
                </span>
              </div>
              <form method="post" action={`${accountPath}/providers/${a.provider}/unlink`}>
                <button
                  type="submit"
                  class="secondary"
                  aria-label={`Unlink ${providerLabel(a.provider)}`}
                >
                  Unlink
                </button>
              </form>
            </li>
          ))}
        </ul>
      )}
      <LinkProviders unlinked={unlinked} recent={props.recent} stepUp={props.stepUp} />
    </section>
  );
}
