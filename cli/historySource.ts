import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import YAML from "yaml";
import { CliError } from "./args";
import { UpdateRecord } from "./stackHistory";

/**
 * Where a stack's history comes from: the one module that knows the backend. With a file backend
 * (fleet's default) Pulumi keeps, per update, `<stack>-<nanos>.history.json` and the state after
 * it, `<stack>-<nanos>.checkpoint.json`, under `<backend>/.pulumi/history/<project>/<stack>/`.
 * (Pulumi Cloud has the same two records behind `pulumi stack history --json` and
 * `pulumi stack export --version N`; a reader for it would return the same UpdateRecords.)
 */
export function readUpdates(projectDir: string, stack: string, env: NodeJS.ProcessEnv = process.env): UpdateRecord[] {
  const backend = backendDir(env);
  const project = projectName(projectDir);
  // Project-scoped layout (Pulumi 3.61+), then the legacy one without the project folder.
  const layouts = [
    { stacks: path.join(backend, ".pulumi", "stacks", project), history: path.join(backend, ".pulumi", "history", project, stack) },
    { stacks: path.join(backend, ".pulumi", "stacks"), history: path.join(backend, ".pulumi", "history", stack) },
  ];
  const layout = layouts.find((l) => ["json", "json.gz"].some((ext) => fs.existsSync(path.join(l.stacks, `${stack}.${ext}`))));
  if (!layout) {
    const known = [...new Set(layouts.flatMap((l) => listStacks(l.stacks)))].sort();
    throw new CliError(`unknown stack "${stack}" in ${backend} (project ${project}); known stacks: ${known.join(", ") || "none"}`);
  }
  if (!fs.existsSync(layout.history)) return [];
  const files = fs.readdirSync(layout.history).filter((f) => f.startsWith(`${stack}-`) && /\.history\.json(\.gz)?$/.test(f));
  // The name's number is the time in nanoseconds: sort by it, not as text.
  const nanos = (f: string) => BigInt(/-(\d+)\.history\./.exec(f)?.[1] ?? "0");
  files.sort((a, b) => (nanos(a) < nanos(b) ? -1 : nanos(a) > nanos(b) ? 1 : 0));
  return files.map((f) => {
    const checkpoint = path.join(layout.history, f.replace(".history.", ".checkpoint."));
    return { source: path.join(layout.history, f), history: readText(path.join(layout.history, f)), checkpoint: fs.existsSync(checkpoint) ? readText(checkpoint) : null };
  });
}

/** The file backend's directory: PULUMI_BACKEND_URL, or the default scripts/env.sh sets. */
export function backendDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.FLEET_CACHE ?? path.join(os.homedir(), ".cache", "fleet");
  const url = env.PULUMI_BACKEND_URL ?? `file://${cache}/state`;
  if (!url.startsWith("file://")) {
    throw new CliError(`PULUMI_BACKEND_URL is ${JSON.stringify(url)}; fleet history, rollback and release read a file backend (file://DIR); see the README for Pulumi Cloud`);
  }
  const dir = url.slice("file://".length).replace(/^~(?=\/)/, os.homedir());
  return dir || os.homedir();
}

/** The project's name, from Pulumi.yaml. */
export function projectName(projectDir: string): string {
  const file = path.join(projectDir, "Pulumi.yaml");
  const name = (YAML.parse(fs.readFileSync(file, "utf8")) as { name?: unknown })?.name;
  if (typeof name !== "string" || !name) throw new CliError(`${file}: name: must be the project's name`);
  return name;
}

function listStacks(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /\.json(\.gz)?$/.test(f) && !f.includes(".json.bak")).map((f) => f.replace(/\.json(\.gz)?$/, "")) : [];
}

function readText(file: string): string {
  const data = fs.readFileSync(file);
  return file.endsWith(".gz") ? zlib.gunzipSync(data).toString("utf8") : data.toString("utf8");
}
