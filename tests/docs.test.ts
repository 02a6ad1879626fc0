import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { environmentSchema, oauthProviderNames } from "../src/config/index.ts";

// The documentation is part of the product: a link that leads nowhere or a
// setting the configuration page does not mention is a bug a newcomer meets
// first. These checks read README.md and docs/*.md as a reader would.

const root = resolve(import.meta.dir, "..");
const pages = [
  join(root, "README.md"),
  ...readdirSync(join(root, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => join(root, "docs", name)),
];

/** The text a reader sees as prose: fenced code blocks removed. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[ \t]*$/gm, "");
}

/** GitHub's heading anchors (lower case, punctuation dropped, spaces to hyphens, repeats numbered) and explicit ids. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading = ""] of prose(markdown).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const slug = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  for (const [, id = ""] of markdown.matchAll(/<a id="([^"]+)"><\/a>/g)) anchors.add(id);
  return anchors;
}

type Link = { page: string; target: string };

function relativeLinks(page: string): Link[] {
  const links: Link[] = [];
  for (const [, target = ""] of prose(readFileSync(page, "utf8")).matchAll(
    /\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g,
  )) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    links.push({ page, target });
  }
  return links;
}

const links = pages.flatMap(relativeLinks);
const where = (link: Link) => `${relative(root, link.page)} → ${link.target}`;

describe("documentation", () => {
  test("README.md and docs/ hold the pages the README links to", () => {
    expect(pages.length).toBeGreaterThan(5);
    expect(links.length).toBeGreaterThan(20);
  });

  test("every relative link in README.md and docs/ points at a file that exists", () => {
    const broken = links
      .filter(({ page, target }) => {
        const path = target.split("#")[0] ?? "";
        return path !== "" && !existsSync(resolve(dirname(page), decodeURIComponent(path)));
      })
      .map(where);
    expect(broken).toEqual([]);
  });

  test("every #anchor in a link names a heading of the page it points at", () => {
    const broken = links
      .filter(({ page, target }) => {
        const [path = "", anchor] = target.split("#");
        if (anchor === undefined) return false;
        const file = path === "" ? page : resolve(dirname(page), decodeURIComponent(path));
        if (!file.endsWith(".md") || !existsSync(file)) return false;
        return !anchorsOf(readFileSync(file, "utf8")).has(anchor);
      })
      .map(where);
    expect(broken).toEqual([]);
  });

  test("the configuration page names every environment variable the server reads", () => {
    const page = readFileSync(join(root, "docs", "configuration.md"), "utf8");
    const providerPrefixes = new Set(oauthProviderNames.map((name) => name.toUpperCase()));
    const missing = Object.keys(environmentSchema.shape).filter((name) => {
      const provider = /^([A-Z]+)_CLIENT_(ID|SECRET)$/.exec(name)?.[1];
      if (provider && providerPrefixes.has(provider)) {
        return !page.includes("`<NAME>_CLIENT_ID`") || !page.includes(`\`${provider}\``);
      }
      return !page.includes(`\`${name}\``);
    });
    expect(missing).toEqual([]);
  });

  test("docs describe the product, not its history: no commit hashes, issue numbers or branches", () => {
    // A commit hash mixes hex letters and digits; ed25519 is the one such word the docs use.
    const commitHash = (line: string) =>
      (line.match(/\b[0-9a-f]{7,40}\b/g) ?? []).some(
        (word) => /[a-f]/.test(word) && /\d/.test(word) && word !== "ed25519",
      );
    const history = pages.flatMap((page) =>
      readFileSync(page, "utf8")
        .split("\n")
        .filter((line) => /\bissue \d+|\bthis (branch|session)\b/i.test(line) || commitHash(line))
        .map((line) => `${relative(root, page)}: ${line.trim()}`),
    );
    expect(history).toEqual([]);
  });
});
