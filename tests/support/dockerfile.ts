import { cp, mkdir, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";

// Builds what a Dockerfile would put into its final image, without a
// container engine: each stage gets a folder standing in for its file
// system, COPY copies from the build context or an earlier stage, RUN runs
// in the stage's WORKDIR, and ENV, USER, CMD and HEALTHCHECK are read for
// the caller to run the image's command itself. Only the instructions our
// Dockerfile uses are understood; any other one fails loudly.

export type Stage = {
  name: string;
  image: string;
  root: string;
  workdir: string;
  env: Record<string, string>;
  user: string | null;
  cmd: string[] | null;
  healthcheck: string[] | null;
  copies: { from: string | null; sources: string[]; dest: string }[];
  runs: string[];
};

type Instruction = { keyword: string; args: string };

/** Joins continuation lines, drops comments and blank lines. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    if (pending === "" && (line.trim() === "" || line.trim().startsWith("#"))) continue;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = "";
    const [keyword = ""] = full.split(/\s+/);
    out.push({ keyword: keyword.toUpperCase(), args: full.slice(keyword.length).trim() });
  }
  return out;
}

function splitFlags(args: string): { flags: Record<string, string>; words: string[] } {
  const flags: Record<string, string> = {};
  const words: string[] = [];
  for (const word of args.split(/\s+/)) {
    const flag = /^--([a-z-]+)=(.*)$/.exec(word);
    if (flag?.[1] && words.length === 0) flags[flag[1]] = flag[2] ?? "";
    else words.push(word);
  }
  return { flags, words };
}

/** `KEY=value KEY2="two words"` pairs. */
function parseEnv(args: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const match of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S*)/g)) {
    env[match[1] as string] = match[3] ?? match[2] ?? "";
  }
  return env;
}

function execForm(args: string): string[] {
  const parsed = JSON.parse(args);
  if (!Array.isArray(parsed)) throw new Error(`expected an exec-form array: ${args}`);
  return parsed as string[];
}

/** The image's stages, in order, without touching the file system. */
export function readStages(instructions: Instruction[], workspace: string): Stage[] {
  const stages: Stage[] = [];
  for (const { keyword, args } of instructions) {
    if (keyword === "FROM") {
      const [image = "", as, name] = args.split(/\s+/);
      const stageName = as?.toUpperCase() === "AS" && name ? name : String(stages.length);
      stages.push({
        name: stageName,
        image,
        root: join(workspace, `stage-${stageName}`),
        workdir: "/",
        env: {},
        user: null,
        cmd: null,
        healthcheck: null,
        copies: [],
        runs: [],
      });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) {
      if (keyword === "ARG") continue;
      throw new Error(`${keyword} before FROM`);
    }
    switch (keyword) {
      case "WORKDIR":
        stage.workdir = resolve(stage.workdir, args);
        break;
      case "ENV":
        Object.assign(stage.env, parseEnv(args));
        break;
      case "COPY": {
        const { flags, words } = splitFlags(args);
        const dest = words.pop();
        if (!dest || words.length === 0) throw new Error(`COPY needs a source and a destination`);
        stage.copies.push({ from: flags.from ?? null, sources: words, dest });
        stage.runs.push(`#copy ${stage.copies.length - 1}`);
        break;
      }
      case "RUN":
        stage.runs.push(args);
        break;
      case "USER":
        stage.user = args;
        break;
      case "CMD":
        stage.cmd = execForm(args);
        break;
      case "HEALTHCHECK": {
        const at = args.indexOf("CMD ");
        stage.healthcheck = at >= 0 ? execForm(args.slice(at + 4)) : null;
        break;
      }
      case "EXPOSE":
      case "LABEL":
      case "ARG":
        break;
      default:
        throw new Error(`Dockerfile instruction this test does not understand: ${keyword}`);
    }
  }
  return stages;
}

/** A path inside a stage's image, as a path on this machine. */
export const hostPath = (stage: Stage, imagePath: string) =>
  join(stage.root, resolve(stage.workdir, imagePath));

async function copyInto(source: string, dest: string, destIsDir: boolean) {
  const info = await stat(source);
  // Docker copies a directory's contents, and a file into a directory by its name.
  const target = !info.isDirectory() && destIsDir ? join(dest, basename(source)) : dest;
  await mkdir(info.isDirectory() ? target : resolve(target, ".."), { recursive: true });
  await cp(source, target, { recursive: true, verbatimSymlinks: true });
}

/**
 * Runs every stage's COPY and RUN in order. `run` executes one RUN command
 * in a folder with the stage's environment and throws when it fails.
 */
export async function buildStages(
  stages: Stage[],
  context: string,
  run: (command: string, cwd: string, env: Record<string, string>) => Promise<void>,
): Promise<void> {
  for (const stage of stages) {
    await mkdir(hostPath(stage, "."), { recursive: true });
    for (const step of stage.runs) {
      const copy = /^#copy (\d+)$/.exec(step);
      if (!copy) {
        await run(step, hostPath(stage, "."), stage.env);
        continue;
      }
      const { from, sources, dest } = stage.copies[Number(copy[1])] as Stage["copies"][number];
      const origin = from === null ? null : stages.find((s) => s.name === from);
      if (from !== null && !origin) throw new Error(`COPY --from=${from}: no such stage`);
      const destIsDir = dest.endsWith("/") || sources.length > 1;
      for (const source of sources) {
        const path = origin ? join(origin.root, source) : resolve(context, source);
        await copyInto(path, hostPath(stage, dest), destIsDir);
      }
    }
  }
}
