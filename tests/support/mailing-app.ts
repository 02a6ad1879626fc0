import { afterAll } from "bun:test";
import { startTestApp } from "./app.ts";
import { createTestDatabase } from "./database.ts";
import { startTestSmtpServer } from "./smtp.ts";

/**
 * A test database, an SMTP server that keeps what it receives, and the app
 * mailing through it (`env` adds to its configuration); all gone after the
 * file's tests.
 */
export async function startMailingApp(env: Record<string, string> = {}) {
  const { pool, drop } = await createTestDatabase();
  const smtp = await startTestSmtpServer();
  const app = await startTestApp(pool, { SMTP_URL: smtp.url, ...env });
  afterAll(async () => {
    await app.close();
    await smtp.close();
    await drop();
  });
  return { pool, smtp, app };
}
