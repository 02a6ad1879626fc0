import { z } from "zod";

/** What kind of process this is, how much it logs, and where it keeps local files. */
export const runtimeSchema = z.object({
  NODE_ENV: z
    .enum(["development", "production", "test"], {
      message: "expected development, production or test",
    })
    .default("development"),
  LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
      message: "expected fatal, error, warn, info, debug, trace or silent",
    })
    .default("info"),
  DATA_DIR: z.string().trim().min(1).default(".data"),
});

export type RuntimeConfig = z.infer<typeof runtimeSchema>;
