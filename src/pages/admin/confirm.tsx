// The second step of a destructive action: what it will do, the button that
// does it (posting `confirmed=yes`), and a way back that does nothing.

export function ConfirmStep(props: {
  /** Who or what it is done to, as the question names it. */
  subject: string;
  question: string;
  consequence: string;
  button: string;
  action: string;
  fields: Record<string, string>;
  cancelHref: string;
}) {
  return (
    <section aria-labelledby="confirm-heading">
      <h2 id="confirm-heading">
        {props.question} <strong>{props.subject}</strong>?
      </h2>
      <p>{props.consequence}</p>
      <form method="post" action={props.action} class="actions">
        {Object.entries(props.fields).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <input type="hidden" name="confirmed" value="yes" />
        <button type="submit" class="danger">
          {props.button}
        </button>
        <a class="button" href={props.cancelHref}>
          Cancel
        </a>
      </form>
    </section>
  );
}
