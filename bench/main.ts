import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createLogger } from "../src/logger.ts";
import { startBenchPostgres } from "./database.ts";
import { runHotPaths } from "./hot-paths.ts";
import { parseBenchOptions, UsageError, usage } from "./options.ts";
import { formatHotPathReport, formatScaleReport } from "./report.ts";
import { runScale } from "./scale.ts";

// `bun run bench`: see bench/options.ts for the arguments and
// docs/benchmarks.md for what the figures mean.

let options: ReturnType<typeof parseBenchOptions>;
try {
  options = parseBenchOptions(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`bench: ${error.message}\n${usage}`);
    process.exit(2);
  }
  throw error;
}

const log = (line: string) => console.error(`bench: ${line}`);
const logger = createLogger("warn");
const postgres = await startBenchPostgres(logger);

async function writeResults(name: string, markdown: string, json: unknown) {
  const dir = join(import.meta.dir, "results");
  await mkdir(dir, { recursive: true });
  const base = join(dir, name);
  // Written under a temporary name first: a cut run leaves no half file.
  await writeFile(`${base}.md.tmp`, markdown);
  await writeFile(`${base}.json.tmp`, `${JSON.stringify(json, null, 2)}\n`);
  await rename(`${base}.md.tmp`, `${base}.md`);
  await rename(`${base}.json.tmp`, `${base}.json`);
  return base;
}

try {
  const stamp = new Date().toISOString().slice(0, 19).replaceAll(":", "-");
  const suffix = options.quick ? "-quick" : "";
  if (options.mode === "scale") {
    const report = await runScale(options, postgres, logger, log);
    const markdown = formatScaleReport(report);
    console.log(markdown);
    log(`wrote ${await writeResults(`${stamp}-scale${suffix}`, markdown, report)}.{md,json}`);
  } else {
    const report = await runHotPaths(options, postgres, logger, log);
    const markdown = formatHotPathReport(report);
    console.log(markdown);
    log(`wrote ${await writeResults(`${stamp}-hot-paths${suffix}`, markdown, report)}.{md,json}`);
  }
} finally {
  await postgres.stop();
}
