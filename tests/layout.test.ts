import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

// The one-way rule of docs/architecture.md, checked on the import lines:
// HTTP (routes, pages) reaches the database only through the domain, and a
// route file never takes code from another route file, nor a page from one.

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

/** The imports from the files under `dir` into files under `target` ("file -> import"). */
const importsInto = (dir: string, target: string) =>
  sourceFiles(dir).flatMap((file) =>
    importsOf(file)
      .filter((imported) => imported.startsWith(target))
      .map((imported) => `${file} -> ${imported}`),
  );

test("a route file imports no other route file", () => {
  expect(importsInto("src/routes", "src/routes/")).toEqual([]);
});

test("a page imports no route file", () => {
  expect(importsInto("src/pages", "src/routes/")).toEqual([]);
});

test("the domain imports nothing from the HTTP layer", () => {
  const http = ["src/http/", "src/routes/", "src/pages/", "src/app.ts"];
  const domain = sourceFiles("src").filter(
    (file) =>
      !http.some((prefix) => file.startsWith(prefix)) && !/^src\/(main|services)\.ts$/.test(file),
  );
  const offending = domain.flatMap((file) =>
    importsOf(file)
      .filter((target) => http.some((prefix) => target.startsWith(prefix)))
      .map((target) => `${file} -> ${target}`),
  );
  expect(offending).toEqual([]);
});

test("src/ and sql/ have no import cycles", () => {
  const files = [...sourceFiles("src"), ...sourceFiles("sql")];
  const edges = new Map(files.map((file) => [file, importsOf(file)]));
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    path.push(file);
    for (const target of edges.get(file) ?? []) {
      if (state.get(target) === "open") {
        cycles.push([...path.slice(path.indexOf(target)), target].join(" -> "));
      } else if (!state.has(target) && edges.has(target)) visit(target);
    }
    path.pop();
    state.set(file, "done");
  };
  for (const file of files) if (!state.has(file)) visit(file);
  expect(cycles).toEqual([]);
});
