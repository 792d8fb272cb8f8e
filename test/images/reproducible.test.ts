import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { familyBuildArgs } from "../../components/familyImage";
import { familyContext } from "../../components/fleet";
import { registryExport, reproducibleBuildArgs } from "../../components/images";
import { serviceBuildArgs } from "../../components/serviceImage";
import { gitRevisions } from "../../source/git";
import { contextFilesOf, stageContext } from "../../source/stage";
import { decodeStackConfig, readStackConfig, ResolvedFleet, resolveFleet } from "../../stack";
import { BASE_REF_FILE } from "../support/image-builds";
import { REPO } from "../support/project";
import { BUILDKIT_ADDR, buildAndPush, engineMissing, mustRun } from "../support/docker";

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
const CACHE = process.env.FLEET_CACHE ?? path.join(os.homedir(), ".cache", "fleet");
/** Stops builder B and deletes its data (its whole build cache). */
async function dropBuilderB() {
  await mustRun("bash", [ENGINE_SH, "down", "buildkit", BUILDER_B]);
  fs.rmSync(path.join(CACHE, "instances", `buildkit-${BUILDER_B}`), { recursive: true, force: true });
}

/** The fleet of the local stack (every service of the catalog, CPU locks), pushed under `registry`. */
function fleetFor(registry: string): ResolvedFleet {
  const { file, raw } = readStackConfig(REPO, "local");
  const config = decodeStackConfig({ ...raw, registry }, file);
  return resolveFleet({ stack: "e2e-two", stackFile: file, config, projectDir: REPO, revisionOf: gitRevisions(REPO) });
}

/** Builds every image of `fleet` on the BuildKit daemon at `addr`, parents first; name -> digest. */
async function buildAll(fleet: ResolvedFleet, addr: string, log: (l: string) => void): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  const refs = new Map<string, string>();
  const build = async (title: string, plan: (typeof fleet.families)[number]["image"], context: string, dockerfile: string, args: Record<string, string>) => {
    const name = `${plan.repository}:${plan.tag}`;
    const image = await buildAndPush({
      addr,
      context,
      dockerfile,
      name,
      buildArgs: { ...args, ...reproducibleBuildArgs(plan) },
      labels: plan.labels,
      output: registryExport(name),
    });
    log(`${title}: ${image.digest} (${image.seconds.toFixed(1)} s)`);
    digests.set(title, image.digest);
    return image.ref;
  };
  for (const f of fleet.families) {
    const from = f.parent ? refs.get(f.parent)! : fleet.baseImage;
    const dockerfile = path.join(REPO, f.dockerfile);
    const context = stageContext(familyContext(REPO, fs.readFileSync(dockerfile, "utf8"), f.lock));
    refs.set(f.name, await build(f.name, f.image, context, dockerfile, familyBuildArgs(f, from)));
  }
  for (const s of fleet.services) {
    if (s.image.kind !== "build") throw new Error(`${s.name}: the local stack pins no image`);
    const context = stageContext(contextFilesOf(path.resolve(REPO, s.source!)));
    await build(s.name, s.image, context, path.join(REPO, "dockerfiles", "service.Dockerfile"), serviceBuildArgs(s, refs.get(s.family)!));
  }
  return digests;
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
