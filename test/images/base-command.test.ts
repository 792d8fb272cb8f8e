import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { BASE_REF_FILE, baseImageRef } from "../support/image-builds";
import { REPO } from "../support/project";
import { exec } from "../../proc";
import { engineMissing } from "../support/docker";
import { tempProject } from "../support/project";
import { fleetCommand } from "../support/cli";

/**
 * `npm run fleet -- base --stack S` against the real registry: the base lands in S's registry
 * path with the digest it had (copied with --from), is pinned in the file fleet:baseImageFile
 * names, is found again (not made again) by a second run, and is written into fleet:baseImage of a
 * stack file that pins it inline, comments kept. A registry path of its own per run (the registry
 * refuses deletes; the blobs are shared with the local base, so it costs a few kB). ~20 s.
 */
const fleetBase = (dir: string, ...args: string[]) => exec(...fleetCommand("base", "--project", dir, ...args), { cwd: REPO, timeoutSeconds: 300 });

describe("fleet base (real registry)", function () {
  const registry = `127.0.0.1:5000/e2e-two/base-${Date.now()}`;
  let source = "";
  let dir = "";

  before(async function () {
    const missing = await engineMissing(BASE_REF_FILE);
    if (missing) throw new Error(`needs the local infrastructure: ${missing}`);
    source = baseImageRef();
    const stackFile = ["# a home stack, as in the README", "config:", "  fleet:machine: pc2", "  fleet:profile: pc2", `  fleet:registry: ${registry}`, "  fleet:baseImageFile: .fleet/base-image.e2e-base.ref", ""].join("\n");
    dir = tempProject({ "Pulumi.e2e-base.yaml": stackFile });
    fs.rmSync(path.join(dir, ".fleet", "base-image.e2e-base.ref"), { force: true });
  });

  it("copies the base into the stack's registry with its digest and writes the file the stack names", async function () {
    const r = await fleetBase(dir, "--stack", "e2e-base", "--from", source);
    assert.equal(r.status, 0, r.stderr);
    const digest = source.slice(source.indexOf("@") + 1);
    assert.equal(fs.readFileSync(path.join(dir, ".fleet", "base-image.e2e-base.ref"), "utf8"), `${registry}/debian-bookworm@${digest}\n`);
    assert.match(r.stdout, /stack e2e-base: .* written to \.fleet\/base-image\.e2e-base\.ref/);
  });

  it("a second machine of the same registry takes the base that is there, making nothing", async function () {
    fs.rmSync(path.join(dir, ".fleet", "base-image.e2e-base.ref"));
    const r = await fleetBase(dir, "--stack", "e2e-base");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /the registry already has/);
    assert.doesNotMatch(r.stderr, /debootstrap/);
    assert.equal(fs.readFileSync(path.join(dir, ".fleet", "base-image.e2e-base.ref"), "utf8").trim(), `${registry}/debian-bookworm@${source.slice(source.indexOf("@") + 1)}`);
  });

  it("pins it inline in fleet:baseImage when the stack has no file, keeping the stack file's comments", async function () {
    const file = path.join(dir, "Pulumi.e2e-base.yaml");
    const stale = `${registry}/debian-bookworm@sha256:${"0".repeat(64)}`;
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/  fleet:baseImageFile: .*\n/, `  fleet:baseImage: ${stale}\n`));
    const r = await fleetBase(dir, "--stack", "e2e-base");
    assert.equal(r.status, 0, r.stderr);
    const text = fs.readFileSync(file, "utf8");
    assert.ok(text.startsWith("# a home stack, as in the README\n"), text);
    assert.match(text, new RegExp(`fleet:baseImage: ${registry.replace(/[./]/g, "\\$&")}/debian-bookworm@${source.slice(source.indexOf("@") + 1)}\\n`));
  });

  it("refuses what it cannot do, in one line: an unpinned --from, an unknown stack", async function () {
    const a = await fleetBase(dir, "--stack", "e2e-base", "--from", "127.0.0.1:5000/fleet/debian-bookworm:base");
    assert.equal(a.status, 2);
    assert.equal(a.stderr.trim(), 'fleet: base: --from must be an image pinned by digest (host[:port]/repo@sha256:<64 hex>); got "127.0.0.1:5000/fleet/debian-bookworm:base"');
    const b = await fleetBase(dir, "--stack", "nope");
    assert.equal(b.status, 2);
    assert.match(b.stderr.trim(), /^fleet: base: Pulumi\.nope\.yaml: no such stack file; known stacks: .*e2e-base/);
  });
});
