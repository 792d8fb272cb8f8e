import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { run } from "../../proc";
import { supplyTools, TOOLS_MISSING } from "../../supply/tools";
import { REPO, tempDir } from "../support/project";

/**
 * An update never installs or compiles the supply-chain tools: it reads what
 * scripts/supply-tools.sh recorded, and says in one line what to run when there is nothing.
 */
describe("supply tools, as recorded before any update", () => {
  const cache = () => tempDir("fleet-supply-cache-");

  it("reads syft, Trivy and the chosen database from $FLEET_CACHE/supply-tools.env", () => {
    const dir = cache();
    const syft = path.join(dir, "syft");
    const trivy = path.join(dir, "trivy");
    for (const f of [syft, trivy]) fs.writeFileSync(f, "#!/bin/sh\n", { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "supply-tools.env"), `SYFT=${syft}\nTRIVY=${trivy}\nSCAN_DB=${dir}/trivy-test\n`);
    assert.deepEqual(supplyTools({ FLEET_CACHE: dir }), { syft, trivy, scanDb: `${dir}/trivy-test` });
    fs.writeFileSync(path.join(dir, "supply-tools.env"), `SYFT=${syft}\nTRIVY=${trivy}\nSCAN_DB=\n`);
    assert.equal(supplyTools({ FLEET_CACHE: dir }).scanDb, "", "empty: Trivy's own database");
  });

  it("refuses a missing record or a missing tool with the command that installs them", () => {
    const dir = cache();
    assert.throws(() => supplyTools({ FLEET_CACHE: dir }), (e: Error) => e.message === TOOLS_MISSING);
    fs.writeFileSync(path.join(dir, "supply-tools.env"), `SYFT=${dir}/gone\nTRIVY=${dir}/gone\nSCAN_DB=\n`);
    assert.throws(() => supplyTools({ FLEET_CACHE: dir }), (e: Error) => e.message === TOOLS_MISSING);
    assert.match(TOOLS_MISSING, /run `bash scripts\/supply-tools\.sh` once/);
  });

  it("a scan step without the tools stops with that one line, compiling nothing", function () {
    this.timeout(60_000);
    const dir = cache();
    const request = JSON.stringify({ service: "CentralErrorBus", image: `127.0.0.1:5000/fleet/central-error-bus@sha256:${"ab".repeat(32)}`, severity: "HIGH", failOnUnfixed: false, dbDir: "", allowlist: [], dockerHost: "unix:///nonexistent.sock" });
    const r = run("npx", ["ts-node", "--transpile-only", "supply/run.ts", "scan"], { cwd: REPO, input: request, env: { ...process.env, FLEET_CACHE: dir, FLEET_SCAN_DB_DIR: "" } });
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim(), TOOLS_MISSING);
    assert.deepEqual(fs.readdirSync(dir), [], "nothing was installed into the cache");
  });
});
