import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Where staged build contexts live. Keyed by content, so every checkout on a host shares them. */
export const STAGE_ROOT = path.join(os.tmpdir(), "fleet-contexts");

/** A file to put in a build context: its path inside the context and where to read it. */
export interface ContextFile {
  readonly rel: string;
  readonly from: string;
}

/**
 * Copies `files` into a directory named by a hash of their paths and contents, with normalised
 * modes (0644, 0755 if executable) and no other metadata. docker-build hashes a context's file
 * modes as well as contents, so without this two checkouts under different umasks never agree and
 * every `up` rebuilds; staged, the context (and its path) depend on content only.
 */
export function stageContext(files: readonly ContextFile[], root: string = STAGE_ROOT): string {
  const sorted = [...files].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  // "v2": staged files carry a fixed time since then; a copy staged before has the time it was made.
  const hash = crypto.createHash("sha256").update("v2\0");
  const contents = sorted.map((f) => {
    const data = fs.readFileSync(f.from);
    const exec = (fs.statSync(f.from).mode & 0o111) !== 0;
    hash.update(`${f.rel}\0${exec ? "x" : "-"}\0${data.length}\0`).update(data);
    return { ...f, data, exec };
  });
  const dir = path.join(root, hash.digest("hex").slice(0, 24));
  if (fs.existsSync(dir)) return dir;

  const tmp = `${dir}.${process.pid}.${Date.now()}.tmp`;
  fs.mkdirSync(tmp, { recursive: true, mode: 0o755 });
  for (const f of contents) {
    const target = path.join(tmp, f.rel);
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
    fs.writeFileSync(target, f.data, { mode: f.exec ? 0o755 : 0o644 });
    fs.chmodSync(target, f.exec ? 0o755 : 0o644); // the process umask may have narrowed the mode
  }
  for (const d of dirsUnder(tmp)) fs.chmodSync(d, 0o755);
  // Every file and folder gets one fixed time (the staging time would differ per machine): BuildKit
  // keeps a context file's time in the layer, and rewrite-timestamp only lowers times newer than
  // SOURCE_DATE_EPOCH, so an older staging time would survive into the image.
  for (const p of [...filesUnder(tmp), ...dirsUnder(tmp).reverse()]) fs.utimesSync(p, STAGED_TIME, STAGED_TIME);
  try {
    fs.renameSync(tmp, dir);
  } catch (e) {
    // Another process staged the same content first: theirs is identical, keep it.
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(dir)) throw e;
  }
  return dir;
}

/** Every file under `dir` that its `.dockerignore` keeps, as ContextFiles. */
export function contextFilesOf(dir: string): ContextFile[] {
  const ignored = readDockerignore(path.join(dir, ".dockerignore"));
  const out: ContextFile[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile() && !ignored(child)) out.push({ rel: child, from: path.join(dir, child) });
    }
  };
  walk("");
  return out;
}

/**
 * A matcher for `.dockerignore` as Docker reads it: patterns with `*`, `**` and `?`, `!` to let a
 * path back in, the last matching line wins, and a pattern that matches a folder matches all
 * under it. BuildKit applies the real file again at build time; this only keeps ignored files out
 * of the staged copy.
 */
export function readDockerignore(file: string): (rel: string) => boolean {
  if (!fs.existsSync(file)) return () => false;
  const rules = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => ({ keep: l.startsWith("!"), re: globToRegExp(l.replace(/^!/, "").replace(/^\/+|\/+$/g, "")) }));
  return (rel) => {
    const parts = rel.split("/");
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
    let ignored = false;
    for (const rule of rules) if (prefixes.some((p) => rule.re.test(p))) ignored = !rule.keep;
    return ignored;
  };
}

function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === "*" && glob[i + 1] === "*") {
      re += ".*";
      i++;
      if (glob[i + 1] === "/") i++;
    } else if (ch === "*") re += "[^/]*";
    else if (ch === "?") re += "[^/]";
    else re += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** The time of every staged file and folder: 2000-01-01T00:00:00Z, before any commit of the project. */
export const STAGED_TIME = new Date("2000-01-01T00:00:00Z");

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function dirsUnder(dir: string): string[] {
  const out = [dir];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) out.push(...dirsUnder(path.join(dir, e.name)));
  return out;
}

/**
 * A Dockerfile staged alone in a folder named by its content (see stageContext): the path a build
 * reads it from. Given by location, not inline, the text stays out of the state (docker-build keeps
 * an inline Dockerfile in both the inputs and the outputs of every image), and the path still
 * changes exactly when the text does, on any checkout.
 */
export function stageDockerfile(from: string, root: string = STAGE_ROOT): string {
  return path.join(stageContext([{ rel: "Dockerfile", from }], root), "Dockerfile");
}

/**
 * The `pip-ca` build context every Dockerfile binds for its pip steps: a staged folder holding
 * `ca.pem`, a copy of `caFile` (the CA bundle of a network that inspects TLS, public data), or an
 * empty folder when there is none. A context, not a build secret: secrets are stored (encrypted) in
 * each image's state, twice, and the bundle is hundreds of kilobytes.
 */
export function pipCaContext(caFile: string | undefined, root: string = STAGE_ROOT): string {
  return stageContext(caFile ? [{ rel: "ca.pem", from: caFile }] : [], root);
}
