import { type ClientView, secretRotationGraceMs } from "../../oidc/clients.ts";
import type { IdTokenAlgorithm } from "../../oidc/id-tokens.ts";
import { supportedScopes } from "../../oidc/scopes.ts";
import { ConfirmLink, Table } from "./layout.tsx";

// /admin/view/clients: the OpenID Connect relying parties, the form that
// registers one, rotating a confidential client's secret and removal (behind
// its confirmation step). A secret is shown once, on the page that answers
// the registration or the rotation, never on the list.

const graceHours = secretRotationGraceMs / 3_600_000;

function UriList({ uris }: { uris: readonly string[] }) {
  if (uris.length === 0) return <span class="muted">none</span>;
  return (
    <>
      {uris.map((uri) => (
        <div>
          <code>{uri}</code>
        </div>
      ))}
    </>
  );
}

export function ClientsList({
  clients,
  algs,
}: {
  clients: readonly ClientView[];
  /** The ID-token algorithms this deployment offers, the default first. */
  algs: readonly IdTokenAlgorithm[];
}) {
  return (
    <>
      <section aria-labelledby="clients-heading">
        <h2 id="clients-heading">Registered clients</h2>
        <p class="muted">
          Apps that sign their users in with Gatehouse over OpenID Connect. A first-party client's
          users are not asked for consent; a public one has no secret and must use PKCE.
        </p>
        {clients.length === 0 ? (
          <p class="muted">No clients: no app signs in with Gatehouse yet.</p>
        ) : (
          <Table head={["Name", "Client ID", "Type", "Redirect URIs", "Scopes", "Added", ""]}>
            {clients.map((client) => (
              <tr>
                <td data-label="Name">
                  {client.name}
                  {client.first_party ? (
                    <div>
                      <span class="badge active">first-party</span>
                    </div>
                  ) : null}
                </td>
                <td data-label="Client ID">
                  <code>{client.client_id}</code>
                </td>
                <td data-label="Type">
                  {client.public ? "public" : "confidential"}
                  <div class="muted">ID tokens {client.id_token_signed_response_alg}</div>
                </td>
                <td data-label="Redirect URIs">
                  <UriList uris={client.redirect_uris} />
                  {client.post_logout_redirect_uris.length > 0 ? (
                    <div class="muted">
                      after sign-out: <UriList uris={client.post_logout_redirect_uris} />
                    </div>
                  ) : null}
                  {client.backchannel_logout_uri ? (
                    <div class="muted">
                      back-channel logout: <code>{client.backchannel_logout_uri}</code>
                    </div>
                  ) : null}
                </td>
                <td data-label="Scopes">{client.allowed_scopes.join(" ")}</td>
                <td data-label="Added">{client.created_at.slice(0, 16).replace("T", " ")}</td>
                <td data-label="Actions">
                  <span class="row">
                    {client.public ? null : (
                      <form
                        method="post"
                        action={`/admin/forms/clients/${client.client_id}/secret`}
                      >
                        <button
                          type="submit"
                          aria-label={`Rotate the secret of ${client.name} (${client.client_id})`}
                        >
                          Rotate secret
                        </button>
                      </form>
                    )}
                    <ConfirmLink
                      href={`/admin/view/clients/${client.client_id}/remove`}
                      label="Remove"
                      warn
                    />
                  </span>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </section>
      <AddClientForm algs={algs} />
    </>
  );
}

function AddClientForm({ algs }: { algs: readonly IdTokenAlgorithm[] }) {
  return (
    <section aria-labelledby="add-client-heading">
      <h2 id="add-client-heading">Register a client</h2>
      <p class="muted">
        A confidential client's secret is shown once, after registering: only its hash is kept.
      </p>
      <form method="post" action="/admin/forms/clients">
        <span class="field">
          <label for="client-name">Name (shown to users)</label>
          <input id="client-name" name="name" required maxlength={100} />
        </span>
        <span class="field">
          <label for="client-redirect-uris">Redirect URIs, one a line (matched exactly)</label>
          <textarea
            id="client-redirect-uris"
            name="redirect_uris"
            required
            rows={3}
            placeholder="https://app.example.com/callback"
          />
        </span>
        <span class="field">
          <label for="client-logout-uris">Post-logout redirect URIs, one a line (optional)</label>
          <textarea id="client-logout-uris" name="post_logout_redirect_uris" rows={2} />
        </span>
        <span class="field">
          <label for="client-backchannel-uri">
            Back-channel logout URI (optional): told when a user signs out
          </label>
          <input
            id="client-backchannel-uri"
            name="backchannel_logout_uri"
            type="url"
            maxlength={2048}
            placeholder="https://app.example.com/backchannel-logout"
          />
        </span>
        <span class="field">
          <label for="client-id-token-alg">ID tokens signed with</label>
          <select id="client-id-token-alg" name="id_token_signed_response_alg">
            {algs.map((alg, index) => (
              <option value={alg} selected={index === 0}>
                {alg}
                {index === 0 ? " (the default, which every app accepts)" : ""}
              </option>
            ))}
          </select>
        </span>
        <fieldset>
          <legend>Scopes it may ask for</legend>
          {supportedScopes.map((scope) => (
            <label>
              <input type="checkbox" name="allowed_scopes" value={scope} checked />{" "}
              <code>{scope}</code>
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>Kind</legend>
          <div>
            <label>
              <input type="checkbox" name="public" value="yes" /> Public: no secret, PKCE required
              (a single-page or native app)
            </label>
          </div>
          <div>
            <label>
              <input type="checkbox" name="first_party" value="yes" /> First-party: trusted, its
              users are not asked for consent
            </label>
          </div>
        </fieldset>
        <button type="submit" class="primary">
          Register client
        </button>
      </form>
    </section>
  );
}

/** The one time a client's secret is shown: after registering it, or rotating it. */
export function ClientSecretShown(props: {
  client: ClientView;
  secret: string | null;
  rotated: boolean;
}) {
  const { client, secret } = props;
  return (
    <section aria-labelledby="secret-heading">
      <h2 id="secret-heading">
        {props.rotated ? "New secret of" : "Registered"} {client.name}
      </h2>
      <p>
        Client ID: <code>{client.client_id}</code>
      </p>
      {secret === null ? (
        <p>A public client has no secret: it proves itself with PKCE.</p>
      ) : (
        <>
          <p>
            Its client secret, shown only now: put it in the app's settings. Only its hash is kept,
            so it cannot be shown again
            {props.rotated
              ? `; the previous secret keeps working for ${graceHours} hours, so the app can be redeployed`
              : ""}
            .
          </p>
          <p>
            <code>{secret}</code>
          </p>
        </>
      )}
      <p>
        <a class="button" href="/admin/view/clients">
          Back to clients
        </a>
      </p>
    </section>
  );
}
