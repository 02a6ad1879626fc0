import { afterAll, expect, test } from "bun:test";
import { sql } from "slonik";
import { startTestApp } from "./support/app.ts";
import { startAppBehindProxy } from "./support/app-behind-proxy.ts";

const { db, proxy, app, close } = await startAppBehindProxy();
afterAll(close);

test("/readyz follows the database: 200, then 503 while unreachable, then 200 again without a restart", async () => {
  expect((await app.request("/readyz")).status).toBe(200);

  proxy.cut();
  const down = await app.request("/readyz");
  expect(down.status).toBe(503);
  expect(down.headers.get("content-type")).toBe("application/problem+json");
  expect((await app.request("/healthz")).status).toBe(200);

  proxy.restore();
  let status = 0;
  for (let attempt = 0; attempt < 20 && status !== 200; attempt++) {
    status = (await app.request("/readyz")).status;
    if (status !== 200) await Bun.sleep(100);
  }
  expect(status).toBe(200);
});

test("/readyz is 503 while migrations are pending", async () => {
  const pending = await startTestApp(db.pool);
  await db.pool.query(sql.unsafe`DELETE FROM pgmigrations`);
  try {
    const response = await pending.request("/readyz");
    expect(response.status).toBe(503);
    expect(((await response.json()) as { detail: string }).detail).toContain("not applied");
  } finally {
    await pending.close();
  }
});
