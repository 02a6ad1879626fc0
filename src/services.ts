import type { Config } from "./config/index.ts";
import { migrationNamesOnDisk } from "./db/migrations.ts";
import type { DatabasePool } from "./db/pool.ts";
import { startGitHubRecheckSchedule } from "./gate/github-recheck.ts";
import { lazyTokenCipher, type TokenCipher } from "./keys/token-encryption.ts";
import { createLogger, type Logger } from "./logger.ts";
import { createMailer, type Mailer } from "./mail/mailer.ts";
import { backchannelLogoutTask, sendBackchannelLogout } from "./oidc/backchannel-logout.ts";
import { createIdTokens, type IdTokens } from "./oidc/id-tokens.ts";
import { enabledProviders } from "./providers/enabled-providers.ts";
import type { ProviderName, SignInProvider } from "./providers/sign-in-providers.ts";
import { type RateLimitStore, rateLimitStoreFor } from "./rate-limits/rate-limit-stores.ts";
import { type CredentialCache, startCredentialCache } from "./sessions/credential-cache.ts";
import { type SessionTouches, startSessionTouches } from "./sessions/session-touches.ts";
import { type AccessTokens, createAccessTokens } from "./tokens/access-tokens.ts";
import { startApprovalDigestSchedule } from "./users/approval-digest.ts";
import { type DeliveryWorker, startDeliveryWorker } from "./webhooks/delivery-worker.ts";
import { sealPlainSecretsAtStart } from "./webhooks/endpoint-secrets.ts";

// The composition root: everything the routes share is built here, once
// per process, from the configuration and an opened database. main.ts and
// the tests both call createServices and hand the result to createApp.

export type Services = {
  config: Config;
  pool: DatabasePool;
  logger: Logger;
  /** Migration names the code expects applied; /readyz compares against them. */
  expectedMigrations: readonly string[];
  /** Validated sessions and bearer checks kept between requests; none when AUTH_CACHE_TTL=0. */
  credentialCache: CredentialCache | undefined;
  /** Where session checks leave their last_seen_at, written once a second (and at close). */
  sessionTouches: SessionTouches;
  /** Signs and verifies access tokens (signing keys loaded once; a development key may be generated). */
  accessTokens: AccessTokens;
  /** Signs the OpenID provider's ID tokens (RS256 keys loaded once; a development key may be generated). */
  idTokens: IdTokens;
  /** Encrypts stored provider tokens; its keys are loaded at the first provider sign-in. */
  tokenCipher: () => Promise<TokenCipher>;
  /** The sign-in providers configured with credentials, in the sign-in page's order. */
  signInProviders: ReadonlyMap<ProviderName, SignInProvider>;
  mailer: Mailer;
  /** Rate-limit counters shared by every replica (PostgreSQL, or Redis with REDIS_URL). */
  rateLimitStore: RateLimitStore;
  /**
   * Settles when the work started in the background at start-up is done
   * (plain webhook secrets from before sealing existed are sealed); never
   * rejects. The server does not wait for it; a test that counts queries does.
   */
  startUpWork: Promise<void>;
  /**
   * Ends what createServices started (the approval digests' and GitHub
   * re-check schedules and the webhook worker stopped, pending session touches written, the LISTEN connection and
   * Redis closed); the pool stays with its opener.
   */
  close(): Promise<void>;
};

export async function createServices(
  config: Config,
  {
    pool,
    listenUrl = pool.configuration.connectionUri,
    logger = createLogger(config.runtime.LOG_LEVEL),
    queueUrl = pool.configuration.connectionUri,
    deliverWebhooks = true,
  }: {
    /** The opened database; whoever opened it closes it. */
    pool: DatabasePool;
    /** Where the credential cache's LISTEN connection goes (the pool's database by default). */
    listenUrl?: string;
    logger?: Logger;
    /** Where the webhook worker's own connections go (the pool's database by default). */
    queueUrl?: string;
    /** Whether this process works the webhook queue. */
    deliverWebhooks?: boolean;
  },
): Promise<Services> {
  const expectedMigrations = await migrationNamesOnDisk();
  const accessTokens = createAccessTokens(config, logger);
  const idTokens = createIdTokens(config, logger);
  const rateLimitStore = rateLimitStoreFor(config.limits, pool, logger);
  const credentials =
    config.session.AUTH_CACHE_TTL > 0
      ? startCredentialCache({
          url: listenUrl,
          pool,
          ttlMs: config.session.AUTH_CACHE_TTL,
          maxEntries: config.session.AUTH_CACHE_MAX_ENTRIES,
          logger,
        })
      : null;
  const sessionTouches = startSessionTouches(pool, logger);
  const mailer = createMailer(config, logger);
  const approvalDigests = startApprovalDigestSchedule({ pool, logger, mailer, config });
  const tokenCipher = lazyTokenCipher(config, logger);
  const githubRecheck = startGitHubRecheckSchedule({ pool, logger, tokenCipher, config });
  const webhookWorker: DeliveryWorker | null = deliverWebhooks
    ? startDeliveryWorker({
        pool,
        config,
        logger,
        tokenCipher,
        databaseUrl: queueUrl,
        tasks: {
          [backchannelLogoutTask]: (payload) =>
            sendBackchannelLogout({ pool, logger, idTokens }, payload),
        },
      })
    : null;
  const sealingSecrets = sealPlainSecretsAtStart({ pool, logger, tokenCipher });
  return {
    config,
    pool,
    logger,
    expectedMigrations,
    credentialCache: credentials?.cache,
    sessionTouches,
    accessTokens,
    tokenCipher,
    idTokens,
    signInProviders: enabledProviders(config, logger),
    mailer,
    rateLimitStore,
    startUpWork: sealingSecrets,
    close: async () => {
      await approvalDigests.stop();
      await githubRecheck.stop();
      await webhookWorker?.stop();
      await sealingSecrets;
      await sessionTouches.close();
      await credentials?.close();
      rateLimitStore.close();
    },
  };
}
