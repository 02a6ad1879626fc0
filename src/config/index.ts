import { z } from "zod";
import { type AccessConfig, accessSchema } from "./access.ts";
import { type BrandingConfig, brandingSchema, checkBranding } from "./branding.ts";
import { ConfigError } from "./config-error.ts";
import { checkDatabase, type DatabaseConfig, databaseSchema } from "./database.ts";
import { completeHttp, type HttpConfig, httpSchema } from "./http.ts";
import { type LimitsConfig, limitsSchema } from "./limits.ts";
import { type MailConfig, mailSchema } from "./mail.ts";
import { completeMfa, type MfaConfig, type MfaPolicy, mfaSchema } from "./mfa.ts";
import { type OpsConfig, opsSchema } from "./ops.ts";
import { type PasswordsConfig, passwordsSchema } from "./passwords.ts";
import {
  checkServerProviders,
  type OAuthProviderName,
  oauthProviderNames,
  type ProvidersConfig,
  providersSchema,
} from "./providers.ts";
import { type RuntimeConfig, runtimeSchema } from "./runtime.ts";
import { type SessionConfig, sessionSchema } from "./session.ts";
import { checkServerTokens, type TokensConfig, tokensSchema } from "./tokens.ts";
import { type WebhooksConfig, webhooksSchema } from "./webhooks.ts";

// Every setting comes from the environment, parsed once here into sections,
// one per concern (a file each in this folder); a module takes the sections
// it reads. A bad value stops the process with one line naming the variable.

export type {
  AccessConfig,
  BrandingConfig,
  DatabaseConfig,
  HttpConfig,
  LimitsConfig,
  MailConfig,
  MfaConfig,
  MfaPolicy,
  OAuthProviderName,
  OpsConfig,
  PasswordsConfig,
  ProvidersConfig,
  RuntimeConfig,
  SessionConfig,
  TokensConfig,
  WebhooksConfig,
};
export { ConfigError, oauthProviderNames };

/** The sections by name; each variable belongs to exactly one (a test checks). */
export const sectionSchemas = {
  runtime: runtimeSchema,
  http: httpSchema,
  database: databaseSchema,
  session: sessionSchema,
  tokens: tokensSchema,
  providers: providersSchema,
  access: accessSchema,
  passwords: passwordsSchema,
  limits: limitsSchema,
  mail: mailSchema,
  mfa: mfaSchema,
  ops: opsSchema,
  branding: brandingSchema,
  webhooks: webhooksSchema,
};

/** Every variable the server reads, each in exactly one section; parsed at once so every bad one is named. */
export const environmentSchema = z.object({
  ...runtimeSchema.shape,
  ...httpSchema.shape,
  ...databaseSchema.shape,
  ...sessionSchema.shape,
  ...tokensSchema.shape,
  ...providersSchema.shape,
  ...accessSchema.shape,
  ...passwordsSchema.shape,
  ...limitsSchema.shape,
  ...mailSchema.shape,
  ...mfaSchema.shape,
  ...opsSchema.shape,
  ...brandingSchema.shape,
  ...webhooksSchema.shape,
});

export type Config = {
  runtime: RuntimeConfig;
  http: HttpConfig;
  database: DatabaseConfig;
  session: SessionConfig;
  tokens: TokensConfig;
  providers: ProvidersConfig;
  access: AccessConfig;
  passwords: PasswordsConfig;
  limits: LimitsConfig;
  mail: MailConfig;
  mfa: MfaConfig;
  ops: OpsConfig;
  branding: BrandingConfig;
  webhooks: WebhooksConfig;
};

/** The section's own variables out of the whole parsed environment. */
function sectionOf<S extends z.ZodObject>(schema: S, parsed: Record<string, unknown>): z.infer<S> {
  return Object.fromEntries(
    Object.keys(schema.shape).map((name) => [name, parsed[name]]),
  ) as z.infer<S>;
}

/** Parses an environment (process.env by default) into the typed config, or throws ConfigError. */
export function parseConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = environmentSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    );
  }
  const parsed = result.data as Record<string, unknown>;
  const runtime = sectionOf(runtimeSchema, parsed);
  const database = sectionOf(databaseSchema, parsed);
  checkDatabase(database, runtime);
  return {
    runtime,
    http: completeHttp(sectionOf(httpSchema, parsed), runtime),
    database,
    session: sectionOf(sessionSchema, parsed),
    tokens: sectionOf(tokensSchema, parsed),
    providers: sectionOf(providersSchema, parsed),
    access: sectionOf(accessSchema, parsed),
    passwords: sectionOf(passwordsSchema, parsed),
    limits: sectionOf(limitsSchema, parsed),
    mail: sectionOf(mailSchema, parsed),
    mfa: completeMfa(sectionOf(mfaSchema, parsed), runtime),
    ops: sectionOf(opsSchema, parsed),
    branding: checkBranding(sectionOf(brandingSchema, parsed), runtime),
    webhooks: sectionOf(webhooksSchema, parsed),
  };
}

/**
 * parseConfig plus what only the server needs (the CLI's migrate or backup
 * must not): checked before anything touches the database.
 */
export function parseServerConfig(env: Record<string, string | undefined> = process.env): Config {
  const config = parseConfig(env);
  checkServerTokens(config.tokens, config.runtime);
  checkServerProviders(config.providers, config.runtime);
  return config;
}

/** The one line a process prints before exiting with code 2. */
export function formatConfigError(error: ConfigError): string {
  return `gatehouse: invalid configuration: ${error.message}`;
}
