import * as fs from "fs";
import * as path from "path";
import { fleetCache } from "../cache";

/** The supply-chain tools and the gate's database, as scripts/supply-tools.sh recorded them. */
export interface Tools {
  readonly syft: string;
  readonly trivy: string;
  /** A directory holding the Trivy database to scan with as is; "" for Trivy's own (downloaded). */
  readonly scanDb: string;
}

/** What an update says when the tools are not there: it never installs or compiles them itself. */
export const TOOLS_MISSING = "fleet: the supply-chain tools (syft, Trivy and the vulnerability database) are not installed for this user; run `bash scripts/supply-tools.sh` once (the first time it compiles Trivy, about 10 minutes, with progress), then the update again";

/**
 * Reads `$FLEET_CACHE/supply-tools.env` (SYFT=, TRIVY=, SCAN_DB=), which scripts/supply-tools.sh
 * writes once it has installed the tools and chosen the database. Throws TOOLS_MISSING when the
 * record or a tool is missing.
 */
export function supplyTools(env: NodeJS.ProcessEnv = process.env): Tools {
  const cache = fleetCache(env);
  let text: string;
  try {
    text = fs.readFileSync(path.join(cache, "supply-tools.env"), "utf8");
  } catch {
    throw new Error(TOOLS_MISSING);
  }
  const vars = Object.fromEntries(text.split("\n").filter((l) => l.includes("=")).map((l) => l.split(/=(.*)/s, 2) as [string, string]));
  if (!vars.SYFT || !vars.TRIVY || !fs.existsSync(vars.SYFT) || !fs.existsSync(vars.TRIVY)) throw new Error(TOOLS_MISSING);
  return { syft: vars.SYFT, trivy: vars.TRIVY, scanDb: vars.SCAN_DB ?? "" };
}
