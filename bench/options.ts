// `bun run bench [scale] [--quick] [--big] [--duration S] [--connections N]`.

export type BenchOptions = {
  mode: "hot-paths" | "scale";
  /** A few-second smoke run: short loads, small scale steps. */
  quick: boolean;
  /** Scale: go on to 10^7 sessions. */
  big: boolean;
  /** Seconds of measured load per scenario (after a warm-up). */
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
};

export const usage = `usage: bun run bench [scale] [--quick] [--big] [--duration SECONDS] [--connections N]

  (no mode)   hot paths next to their ceilings and better-auth
  scale       session/audit tables at 10^4, 10^5, 10^6 rows (10^7 with --big)
  --quick     a few-second smoke run (short loads, small tables)
  BENCH_DATABASE_URL=postgres://...  use that server instead of an embedded one`;

export class UsageError extends Error {
  override name = "UsageError";
}

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  let mode: BenchOptions["mode"] = "hot-paths";
  let quick = false;
  let big = false;
  let duration: number | undefined;
  let connections = 32;
  const positiveNumber = (flag: string, value: string | undefined) => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n <= 0) {
      throw new UsageError(`${flag} needs a positive number`);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "scale") mode = "scale";
    else if (arg === "--quick") quick = true;
    else if (arg === "--big") big = true;
    else if (arg === "--duration") duration = positiveNumber(arg, argv[++i]);
    else if (arg === "--connections") connections = Math.round(positiveNumber(arg, argv[++i]));
    else throw new UsageError(`unknown argument: ${arg}`);
  }
  if (big && mode !== "scale") throw new UsageError("--big only applies to `bench scale`");
  return {
    mode,
    quick,
    big,
    durationSeconds: duration ?? (quick ? 1 : 10),
    // Bun's JIT (and better-auth's, which warms up slowly) settles within a few seconds.
    warmupSeconds: quick ? 0.5 : 5,
    connections,
  };
}
