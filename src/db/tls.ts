import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";

// TLS to PostgreSQL, read from the URL as libpq spells it (sslmode,
// sslrootcert, sslcert, sslkey) and handed to the driver as an explicit
// `ssl` option, the same way for every connection Gatehouse opens: the
// slonik pool, the LISTEN client and the migration runner. slonik's own
// URL parser refuses sslmode=verify-full and drops sslrootcert, and
// node-postgres reads them with different rules, so neither may see them.

const tlsParameters = ["sslmode", "sslrootcert", "sslcert", "sslkey", "ssl"] as const;

export const sslModes = ["disable", "no-verify", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof sslModes)[number];

export type DatabaseConnection = {
  /** The URL without its TLS parameters. */
  connectionString: string;
  ssl: false | ConnectionOptions;
};

type TlsSettings = {
  mode: SslMode;
  /** A PEM file, or "system" for the runtime's public CAs. */
  rootCert: string | undefined;
  cert: string | undefined;
  key: string | undefined;
};

class TlsSettingsError extends Error {}

function readTlsSettings(url: URL): TlsSettings {
  const params = url.searchParams;
  const rootCert = params.get("sslrootcert") || undefined;
  const cert = params.get("sslcert") || undefined;
  const key = params.get("sslkey") || undefined;
  // node-postgres' `ssl=true` means require.
  const legacy = params.get("ssl");
  let mode = params.get("sslmode") ?? (legacy === "true" || legacy === "1" ? "require" : null);
  // A CA given without a mode means the operator wants it checked.
  if (mode === null) mode = rootCert ? "verify-full" : "disable";
  if (mode === "prefer" || mode === "allow") {
    throw new TlsSettingsError(
      `sslmode=${mode} is not supported (the driver cannot fall back to plain text): use disable, require, verify-ca or verify-full`,
    );
  }
  if (!(sslModes as readonly string[]).includes(mode)) {
    throw new TlsSettingsError(`sslmode=${mode} is not one of ${sslModes.join(", ")}`);
  }
  if (rootCert && (mode === "disable" || mode === "no-verify")) {
    throw new TlsSettingsError(
      `sslmode=${mode} checks no certificate, so sslrootcert would be ignored`,
    );
  }
  if (rootCert === "system" && mode !== "verify-full") {
    // libpq's rule: a public CA vouches for anyone's server, so only the host name check makes it safe.
    throw new TlsSettingsError("sslrootcert=system needs sslmode=verify-full");
  }
  if (Boolean(cert) !== Boolean(key)) {
    throw new TlsSettingsError("sslcert and sslkey go together");
  }
  return { mode: mode as SslMode, rootCert, cert, key };
}

/** A PEM file's text; `label` names it in the error ("sslrootcert file"). */
function readPem(
  file: string,
  label: string,
  { pattern, what }: { pattern: RegExp; what: string },
): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new TlsSettingsError(
      `${label} ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  if (!pattern.test(text)) throw new TlsSettingsError(`${label} ${file} holds no PEM ${what}`);
  return text;
}

const pemCertificate = { pattern: /-----BEGIN CERTIFICATE-----/, what: "certificate" };
const pemKey = { pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/, what: "private key" };

/** Why a CA file cannot serve as one (unreadable, no PEM certificate), or null. */
export function pemCertificateFileProblem(file: string): string | null {
  try {
    readPem(file, "file", pemCertificate);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The driver's connection settings for a postgres:// URL; throws on settings it cannot honour. */
export function databaseConnection(url: string): DatabaseConnection {
  const parsed = new URL(url);
  const settings = readTlsSettings(parsed);
  for (const name of tlsParameters) parsed.searchParams.delete(name);
  const connectionString = parsed.toString();
  if (settings.mode === "disable") return { connectionString, ssl: false };
  if (settings.mode === "no-verify")
    return { connectionString, ssl: { rejectUnauthorized: false } };
  const ssl: ConnectionOptions = { rejectUnauthorized: true };
  if (settings.rootCert && settings.rootCert !== "system") {
    ssl.ca = readPem(settings.rootCert, "sslrootcert file", pemCertificate);
  }
  if (settings.cert && settings.key) {
    ssl.cert = readPem(settings.cert, "sslcert file", pemCertificate);
    ssl.key = readPem(settings.key, "sslkey file", pemKey);
  }
  // verify-ca: the chain is checked, the host name is not (libpq's meaning).
  // require keeps node-postgres' meaning, a full check: weakening it silently
  // would expose deployments that rely on it today; no-verify is the opt-out.
  if (settings.mode === "verify-ca") ssl.checkServerIdentity = () => undefined;
  return { connectionString, ssl };
}

/** The URL with DATABASE_CA_FILE as its sslrootcert (verify-full unless the URL names a mode). */
export function withCaFile(url: string, caFile: string | undefined): string {
  if (!caFile) return url;
  const parsed = new URL(url);
  parsed.searchParams.set("sslrootcert", caFile);
  if (!parsed.searchParams.has("sslmode")) parsed.searchParams.set("sslmode", "verify-full");
  return parsed.toString();
}

/**
 * Why the URL's TLS settings (with DATABASE_CA_FILE folded in) cannot work,
 * or null: so a bad value stops the process at parse time, not at the first
 * connection. Reads the files it names.
 */
export function databaseTlsProblem(url: string, caFile?: string): string | null {
  try {
    const parsed = new URL(url);
    const own = parsed.searchParams.get("sslrootcert");
    const mode = parsed.searchParams.get("sslmode");
    if (caFile && (mode === "disable" || mode === "no-verify")) {
      return `sslmode=${mode} checks no certificate, so DATABASE_CA_FILE would be ignored`;
    }
    if (caFile && own && own !== caFile) {
      return "the URL names another sslrootcert than DATABASE_CA_FILE; set one of them";
    }
    databaseConnection(withCaFile(url, caFile));
    return null;
  } catch (error) {
    if (error instanceof TlsSettingsError) return error.message;
    return null; // not a URL: the URL check itself says so
  }
}

// OpenSSL's verification failures, as Node and Bun report them.
const certificateErrorCodes = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
]);
const hostNameErrorCodes = new Set(["ERR_TLS_CERT_ALTNAME_INVALID", "HOSTNAME_MISMATCH"]);

/**
 * A connection error restated for an operator when TLS is why it failed
 * (an untrusted or misnamed server certificate, a server without TLS), else null.
 */
export function explainTlsFailure(error: unknown): string | null {
  for (let e = error as { code?: string; message?: string; cause?: unknown } | undefined; e; ) {
    if (e.code && certificateErrorCodes.has(e.code)) {
      return `the database server's certificate was refused (${e.code}: ${e.message}); check that DATABASE_CA_FILE (or the URL's sslrootcert) is the CA that signed it`;
    }
    if (e.code && hostNameErrorCodes.has(e.code)) {
      return `the database server's certificate does not name the URL's host (${e.code}: ${e.message}); connect by a name it carries, or use sslmode=verify-ca`;
    }
    if (e.message === "The server does not support SSL connections") {
      return "the database server does not accept TLS connections, but the URL's sslmode asks for TLS";
    }
    e = e.cause as typeof e | undefined;
  }
  return null;
}
