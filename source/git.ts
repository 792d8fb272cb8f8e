import { run } from "../proc";

/**
 * The commit checked out in `projectDir` (full SHA), or "unknown" outside git. It names the
 * checkout for people (the inventory report, stack history); an image's identity is its inputs'
 * content instead (source/inputs.ts), since in a shallow clone or after a rebase the history of a
 * path says nothing about its content.
 */
export function headCommit(projectDir: string): string {
  const r = run("git", ["rev-parse", "--verify", "HEAD"], { cwd: projectDir });
  return r.status === 0 ? r.stdout.trim() : "unknown";
}
