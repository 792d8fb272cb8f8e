import { execFileSync } from "child_process";
import * as path from "path";

/** Which commit an image's inputs come from. */
export interface Revision {
  /** Full commit SHA of the last commit that touched the inputs, or "unknown" outside git. */
  readonly sha: string;
  /** That commit's time, ISO 8601 (used as the image's creation time, so rebuilds are reproducible). */
  readonly created: string;
  /** True when the inputs differ from that commit (uncommitted edits, or files outside the repository). */
  readonly dirty: boolean;
}

/** Looks up the Revision of a set of input paths. */
export type RevisionOf = (paths: readonly string[]) => Revision;

const UNKNOWN: Revision = { sha: "unknown", created: "1970-01-01T00:00:00Z", dirty: true };

/**
 * A RevisionOf backed by git in `projectDir`. An image's revision is the last commit that touched
 * its own inputs, not HEAD: a commit that changes only the README rebuilds nothing.
 */
export function gitRevisions(projectDir: string): RevisionOf {
  const git = (...args: string[]) => execFileSync("git", args, { cwd: projectDir, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  let top: string;
  try {
    top = git("rev-parse", "--show-toplevel");
  } catch {
    return () => UNKNOWN;
  }
  const cache = new Map<string, Revision>();
  return (paths) => {
    const key = paths.join("\0");
    const hit = cache.get(key);
    if (hit) return hit;
    const abs = paths.map((p) => path.resolve(projectDir, p));
    const inside = abs.filter((p) => !path.relative(top, p).startsWith(".."));
    let rev = UNKNOWN;
    try {
      const [sha, created] = inside.length ? git("log", "-1", "--format=%H %cI", "--", ...inside).split(" ") : [];
      if (sha) {
        const dirty = inside.length < abs.length || git("status", "--porcelain", "--", ...inside) !== "";
        rev = { sha, created: new Date(created).toISOString().replace(/\.\d{3}Z$/, "Z"), dirty };
      }
    } catch {
      rev = UNKNOWN;
    }
    cache.set(key, rev);
    return rev;
  };
}

/**
 * The image tag for a revision: `YYYYMMDD-<shortsha>`, with `-dirty` for uncommitted inputs, and
 * `untracked` for inputs outside any git checkout.
 */
export function revisionTag(rev: Revision): string {
  if (rev.sha === UNKNOWN.sha) return "untracked";
  const date = rev.created.slice(0, 10).replace(/-/g, "");
  return `${date}-${rev.sha.slice(0, 7)}${rev.dirty ? "-dirty" : ""}`;
}
