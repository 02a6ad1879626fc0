import { afterAll } from "bun:test";
import { startTestDatabaseServer, stopTestDatabaseServer } from "./database.ts";

try {
  await startTestDatabaseServer();
} catch (error) {
  // Without a database no test can mean anything: stop the run loudly.
  console.error("test database could not start:", error);
  process.exit(1);
}
afterAll(stopTestDatabaseServer);
