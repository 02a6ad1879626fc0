import type { DeviceView } from "../../users/devices.ts";
import { deviceName } from "../device-names.ts";
import { when } from "../utc-time.ts";
import { accountPath } from "./path.ts";

// The account center's devices: where the account is signed in now, each
// with its sign-out form.

export function DevicesSection(props: { devices: readonly DeviceView[] }) {
  const others = props.devices.filter((d) => !d.current).length;
  return (
    <section aria-labelledby="devices-heading">
      <h2 id="devices-heading">Devices</h2>
      <p class="muted">Where this account is signed in now.</p>
      <ul class="rows">
        {props.devices.map((d) => {
          const name = deviceName(d.user_agent, d.kind);
          return (
            <li>
              <div>
                <strong>{name}</strong>{" "}
                {d.current ? <span class="badge ok">this device</span> : null}
                <br />
                <span class="muted">
                  Last seen {when(d.last_seen_at)}
                  {d.ip ? `, from ${d.ip}` : ""}; signed in {when(d.created_at)}
                </span>
              </div>
              <form method="post" action={`${accountPath}/sessions/${d.id}/revoke`}>
                <button
                  type="submit"
                  class="secondary"
                  aria-label={`${d.current ? "Sign out" : "Revoke"} ${name}`}
                >
                  {d.current ? "Sign out" : "Revoke"}
                </button>
              </form>
            </li>
          );
        })}
      </ul>
      {others > 0 ? (
        <form method="post" action={`${accountPath}/sessions/revoke-others`}>
          <button type="submit" class="secondary">
            Sign out every other device ({others})
          </button>
        </form>
      ) : null}
    </section>
  );
}
