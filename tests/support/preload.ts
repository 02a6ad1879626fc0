import { afterAll, setDefaultTimeout } from "bun:test";
import { startTestDatabaseServer, stopTestDatabaseServer } from "./database.ts";

// bunfig's [test] timeout is not applied by every bun version; a database test
// on a loaded machine may take seconds, never minutes.
setDefaultTimeout(30_000);

try {
  await startTestDatabaseServer();
} catch (error) {
  // Without a database no test can mean anything: stop the run loudly.
  console.error("test database could not start:", error);
  process.exit(1);
}
afterAll(stopTestDatabaseServer);
