import type { Logger } from "../src/logger.ts";
import type { BenchPostgres } from "./database.ts";
import type { BenchOptions } from "./options.ts";
import type { ScaleReport } from "./report.ts";

export async function runScale(
  _options: BenchOptions,
  _postgres: BenchPostgres,
  _logger: Logger,
  _log: (line: string) => void,
): Promise<ScaleReport> {
  throw new Error("bench scale: not written yet");
}
