import { databaseTlsProblem, pemCertificateFileProblem } from "./tls.ts";

/**
 * What is wrong with the database settings taken together (which URL plays
 * which role, TLS files that must be readable), as `VARIABLE: reason`, or
 * null. Checked at parse time, before anything connects.
 */
export function databaseSettingsProblem(settings: {
  DATABASE_URL?: string | undefined;
  DATABASE_MIGRATION_URL?: string | undefined;
  DATABASE_LISTEN_URL?: string | undefined;
  DATABASE_CA_FILE?: string | undefined;
}): string | null {
  const {
    DATABASE_URL: url,
    DATABASE_MIGRATION_URL: migrationUrl,
    DATABASE_LISTEN_URL: listenUrl,
    DATABASE_CA_FILE: caFile,
  } = settings;
  if (migrationUrl && !url) {
    // The embedded PostgreSQL has one role; a second URL there is a mistake.
    return "DATABASE_MIGRATION_URL: needs DATABASE_URL (the service's own, less privileged role)";
  }
  if (listenUrl && !url)
    return "DATABASE_LISTEN_URL: needs DATABASE_URL (it names the same database)";
  if (caFile) {
    if (!url) return "DATABASE_CA_FILE: needs DATABASE_URL (the embedded PostgreSQL has no TLS)";
    const fileProblem = pemCertificateFileProblem(caFile);
    if (fileProblem) return `DATABASE_CA_FILE: ${fileProblem}`;
  }
  for (const [name, value] of [
    ["DATABASE_URL", url],
    ["DATABASE_MIGRATION_URL", migrationUrl],
    ["DATABASE_LISTEN_URL", listenUrl],
  ] as const) {
    const problem = value ? databaseTlsProblem(value, caFile) : null;
    if (problem) return `${name}: ${problem}`;
  }
  return null;
}
