import { loadEncryptionKeys } from "../keys/token-encryption.ts";
import { rotateEncryptionKeys, UnconfiguredKeys } from "../ops/rotate-keys.ts";
import { type CliCommand, CliError, output, withDatabase } from "./command.ts";
import { progressLine } from "./progress.ts";

const help = `usage: gatehouse rotate-keys [--batch-size N] [--max-batches N] [--json]

Re-encrypts every stored provider token, TOTP secret and webhook signing secret
under the first key of TOKEN_ENCRYPTION_KEYS (put the new key first, keep the
old ones after it), bound to its row and column; tokens written before that binding existed are
rewritten even when their key is already the first one, and webhook secrets
still in plain text are sealed.
Each batch commits on its own: an interrupted run continues where it stopped
when run again, and a finished one finds nothing to do. Refuses to start when
a stored token names a key that is not configured, so no token is lost.
Reports how many tokens each key sealed before and after.

  --batch-size N    rows per transaction (default 100)
  --max-batches N   stop after N batches (spread a large rotation out)`;

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !/^\d+$/.test(value) || Number(value) < 1) {
    throw new CliError(`--${name} expects a positive integer, not '${value}'`);
  }
  return Number(value);
}

export const rotateKeysCommand: CliCommand = {
  summary:
    "re-encrypt stored provider tokens, TOTP secrets and webhook secrets under the first configured key",
  help,
  options: { "batch-size": { type: "string" }, "max-batches": { type: "string" } },
  run: async ({ values, positionals, json }) => {
    if (positionals.length > 0) throw new CliError("rotate-keys takes no arguments");
    const batchSize = positive("batch-size", values["batch-size"], 100);
    const maxBatches = positive("max-batches", values["max-batches"], Number.POSITIVE_INFINITY);
    const progress = progressLine();
    const report = await withDatabase(
      async ({ config, db, logger }) =>
        rotateEncryptionKeys({
          pool: db.pool,
          keys: await loadEncryptionKeys(config, logger),
          batchSize,
          maxBatches,
          onProgress: (n) => progress.update(`${n} rows re-encrypted`),
        }),
      { migrate: true },
    ).catch((error: Error) => {
      if (error instanceof UnconfiguredKeys)
        throw new CliError(`refusing to rotate: ${error.message}`);
      throw error;
    });
    progress.done();
    const counts = (c: Record<string, number>) =>
      Object.entries(c)
        .map(([k, n]) => `${k}: ${n}`)
        .join(", ") || "no tokens";
    output(json, report, () =>
      [
        `tokens per key before: ${counts(report.before)}`,
        `re-encrypted ${report.rows_rotated} rows in ${report.batches} batches under '${report.current_key}'`,
        `tokens per key after:  ${counts(report.after)}`,
        ...(report.unreadable > 0
          ? [
              `${report.unreadable} tokens did not open for their row (copied or tampered with): left as they are, read as absent`,
            ]
          : []),
        report.finished ? "done" : "stopped early: run again to finish",
      ].join("\n"),
    );
    return 0;
  },
};
