import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { BASE_REF_FILE } from "../support/image-builds";
import { REPO } from "../support/project";
import { BUILDKIT_ADDR, engineMissing, mustRun } from "../support/docker";
import { FLEET_CACHE } from "../support/engine";
import { buildFleet, fleetOf } from "../support/fleet-builds";

/**
 * Two builders that share no cache build the same commit and must push the same digest for every
 * one of the 15 images (5 families, 10 services), with exactly the build args, labels, staged
 * contexts and exporter attributes the Pulumi program gives docker-build (the same functions).
 * Builder A is the shared BuildKit daemon; builder B is a private buildkitd (scripts/engine.sh: own
 * root, socket and config), its data deleted before it starts, so its cache is empty. Nothing is
 * imported from a registry cache.
 * Cold on builder B, about 3 minutes on 2 cores.
 */

const NAMESPACE = "127.0.0.1:5000/e2e-two";
const BUILDER_B = "e2e-two-b";
const ENGINE_SH = path.join(REPO, "scripts", "engine.sh");
const CACHE = FLEET_CACHE;
/** Stops builder B and deletes its data (its whole build cache). */
async function dropBuilderB() {
  await mustRun("bash", [ENGINE_SH, "down", "buildkit", BUILDER_B]);
  fs.rmSync(path.join(CACHE, "instances", `buildkit-${BUILDER_B}`), { recursive: true, force: true });
}

/** The fleet of the local stack (every service of the catalog, CPU locks), pushed under `registry`. */
const fleetFor = (registry: string) => fleetOf("local", { registry });

/** Builds every image on the BuildKit daemon at `addr`; name -> digest. */
async function buildAll(fleet: ReturnType<typeof fleetFor>, addr: string, log: (l: string) => void): Promise<Map<string, string>> {
  return new Map([...(await buildFleet(fleet, addr, log))].map(([k, v]) => [k, v.digest]));
}

describe("reproducible images: two builders, one commit", function () {
  let addrB = "";
  const a = new Map<string, string>();
  const b = new Map<string, string>();

  before(async function () {
    const missing = await engineMissing(BASE_REF_FILE);
    if (missing) throw new Error(`the image tests need the local infrastructure: ${missing}`);
    await dropBuilderB();
    addrB = (await mustRun("bash", [ENGINE_SH, "up", "buildkit", BUILDER_B])).split("\n").pop()!;
    const log = (who: string) => (l: string) => console.log(`      [${who}] ${l}`);
    for (const [k, v] of await buildAll(fleetFor(`${NAMESPACE}/builder-a`), BUILDKIT_ADDR, log("A"))) a.set(k, v);
    for (const [k, v] of await buildAll(fleetFor(`${NAMESPACE}/builder-b`), addrB, log("B"))) b.set(k, v);
  });

  after(async function () {
    await dropBuilderB().catch((e) => console.error(e));
  });

  it("builds all 15 images (5 families, 10 services) on each builder", function () {
    assert.equal(a.size, 15);
    assert.equal(b.size, 15);
  });

  it("gives every image the same digest on both builders", function () {
    const differing = [...a].filter(([name, digest]) => b.get(name) !== digest).map(([name, digest]) => `${name}: ${digest} vs ${b.get(name)}`);
    assert.deepEqual(differing, [], `${differing.length} of ${a.size} images differ between builders`);
  });
});
