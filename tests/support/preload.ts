import { afterAll } from "bun:test";
import { startTestDatabaseServer, stopTestDatabaseServer } from "./database.ts";

await startTestDatabaseServer();
afterAll(stopTestDatabaseServer);
