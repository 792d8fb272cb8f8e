import { execFileSync } from "child_process";

/**
 * The commit checked out in `projectDir` (full SHA), or "unknown" outside git. It names the
 * checkout for people (the inventory report, stack history); an image's identity is its inputs'
 * content instead (source/inputs.ts), since in a shallow clone or after a rebase the history of a
 * path says nothing about its content.
 */
export function headCommit(projectDir: string): string {
  try {
    return execFileSync("git", ["rev-parse", "--verify", "HEAD"], { cwd: projectDir, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unknown";
  }
}
