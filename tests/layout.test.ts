import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

// The one-way rule of docs/architecture.md, checked on the import lines:
// HTTP (routes, pages) reaches the database only through the domain, and a
// route file never takes code from another route file.

const root = resolve(import.meta.dir, "..");

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => /\.tsx?$/.test(f))
    .map((f) => join(dir, f));
}

/** The repository-relative files a source file imports (relative imports only). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  return [...text.matchAll(/(?:import|export)[^'"]*?from\s+["'](\.[^"']+)["']/g)].map((m) =>
    relative(root, resolve(dirname(join(root, file)), m[1] as string)),
  );
}

test("routes and pages import no sql/ module", () => {
  const offending = [...sourceFiles("src/routes"), ...sourceFiles("src/pages")].flatMap((file) =>
    importsOf(file)
      .filter((target) => target.startsWith("sql/"))
      .map((target) => `${file} -> ${target}`),
  );
  expect(offending).toEqual([]);
});

test("a route file imports no other route file", () => {
  const offending = sourceFiles("src/routes").flatMap((file) =>
    importsOf(file)
      .filter((target) => target.startsWith("src/routes/"))
      .map((target) => `${file} -> ${target}`),
  );
  expect(offending).toEqual([]);
});
