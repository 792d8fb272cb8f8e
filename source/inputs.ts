import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { contextPaths } from "./dockerfile";
import { ContextFile, contextFilesOf } from "./stage";

/** Where a built image comes from. */
export interface Provenance {
  /**
   * The image's identity: sha256 (hex) of exactly what it is built from, its Dockerfile and the
   * files staged as its context (see inputsDigest). Its tag and `dev.fleet.inputs` label say it.
   */
  readonly inputs: string;
  /** The git HEAD of the checkout that resolved the stack, or "unknown" outside git. Informational only: never baked into an image. */
  readonly commit: string;
}

/** The files a family build reads: what its Dockerfile COPYs from dockerfiles/, and its .dockerignore. */
export function familyContext(projectDir: string, dockerfile: string, lock: string): ContextFile[] {
  const root = path.join(projectDir, "dockerfiles");
  const wanted = new Set([...contextPaths(dockerfile, { LOCK: lock }), ".dockerignore"]);
  return contextFilesOf(root).filter((f) => [...wanted].some((w) => w === "." || f.rel === w || f.rel.startsWith(`${w}/`)));
}

/** The files a service build reads: its source folder, as its `.dockerignore` keeps it. */
export function serviceContext(projectDir: string, source: string): ContextFile[] {
  return contextFilesOf(path.resolve(projectDir, source));
}

/**
 * The identity of an image's inputs: sha256 (hex) over its Dockerfile text and each context file's
 * path, executable bit and contents, in path order; the same facts stageContext keeps of a file.
 * Neither git history nor a checkout's location, times or umask enter it, so a shallow clone, a
 * rebase or a commit elsewhere gives the same value, and two machines agree. A parent image's
 * digest and the build args are inputs of the build beside it, not part of it.
 */
export function inputsDigest(dockerfile: string, files: readonly ContextFile[]): string {
  const sorted = [...files].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  const hash = crypto.createHash("sha256").update("fleet-inputs-v1\0");
  const text = Buffer.from(dockerfile, "utf8");
  hash.update(`Dockerfile\0${text.length}\0`).update(text);
  for (const f of sorted) {
    const data = fs.readFileSync(f.from);
    const exec = (fs.statSync(f.from).mode & 0o111) !== 0;
    hash.update(`\0${f.rel}\0${exec ? "x" : "-"}\0${data.length}\0`).update(data);
  }
  return hash.digest("hex");
}

/** The tag of an image with these inputs: `src-` and the first 12 hex digits of their digest. */
export function inputsTag(inputs: string): string {
  return `src-${inputs.slice(0, 12)}`;
}

