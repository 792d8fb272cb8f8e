import { spawnSync } from "child_process";
import * as path from "path";

/** Paths of the supply-chain tools, installed (once) by scripts/supply-tools.sh. */
export interface Tools {
  readonly syft: string;
  readonly trivy: string;
}

/** Installs the tools if needed (instant once cached) and returns where they are. */
export function supplyTools(projectDir: string): Tools {
  const r = spawnSync("bash", [path.join(projectDir, "scripts/supply-tools.sh")], { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`scripts/supply-tools.sh failed (exit ${r.status}):\n${(r.stderr ?? "").trim().split("\n").slice(-20).join("\n")}`);
  const vars = Object.fromEntries(r.stdout.trim().split("\n").map((l) => l.split(/=(.*)/s, 2)));
  if (!vars.SYFT || !vars.TRIVY) throw new Error(`scripts/supply-tools.sh printed no tool paths: ${r.stdout}`);
  return { syft: vars.SYFT, trivy: vars.TRIVY };
}

/** Whether a registry host is this machine's (served in plain HTTP, as the fleet's local one is). */
export function isLoopbackRegistry(image: string): boolean {
  return /^(127\.\d+\.\d+\.\d+|localhost)(:\d+)?\//.test(image);
}
