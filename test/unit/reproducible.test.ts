import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { familyBuildArgs } from "../../components/familyImage";
import { registryExport, reproducibleBuildArgs, SOURCE_DATE_EPOCH } from "../../components/images";
import { serviceBuildArgs, servicePlan } from "../../components/serviceImage";
import { must } from "../../proc";
import { STAGED_TIME } from "../../source/stage";
import { resolveStack } from "../../stack";
import { tempDir, tempProject } from "../support/project";

const git = (dir: string, ...args: string[]) => must("git", ["-c", "user.name=t", "-c", "user.email=t@t", "-c", "protocol.file.allow=always", ...args], { cwd: dir }).stdout.trim();

/** Commits everything in `dir` as `message`. */
function commitAll(dir: string, message: string) {
  git(dir, "add", "-A");
  git(dir, "commit", "-qm", message);
}

/** A stack file of `dir` with `line` added under `config:`. */
function addConfig(dir: string, stack: string, line: string) {
  const file = path.join(dir, `Pulumi.${stack}.yaml`);
  fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/^config:\n/m, `config:\n  ${line}\n`));
}

/**
 * What a stack's images are made with, per image title: tag, labels and every build arg the
 * program gives docker-build (parents as placeholders: their digests are inputs of their own).
 */
function imagesOf(dir: string, stack: string): Record<string, { tag: string; labels: Record<string, string>; buildArgs: Record<string, string> }> {
  const fleet = resolveStack(dir, stack);
  const out: ReturnType<typeof imagesOf> = {};
  for (const f of fleet.families) out[f.name] = { tag: f.image.tag, labels: { ...f.image.labels }, buildArgs: { ...familyBuildArgs(f, `<${f.parent ?? "base"}>`), ...reproducibleBuildArgs() } };
  for (const s of [...fleet.services, ...fleet.imagesOnly]) {
    const plan = servicePlan(s);
    out[s.name] = { tag: plan.tag, labels: { ...plan.labels }, buildArgs: { ...serviceBuildArgs(s, `<${s.family}>`), ...reproducibleBuildArgs() } };
  }
  return out;
}

/** Image titles whose tag differs between two imagesOf. */
const changed = (a: ReturnType<typeof imagesOf>, b: ReturnType<typeof imagesOf>) => Object.keys(b).filter((n) => a[n]?.tag !== b[n].tag).sort();

describe("reproducible image settings", () => {
  it("SOURCE_DATE_EPOCH is one fixed instant for every image: 2000-01-01T00:00:00Z, the time of every staged file", () => {
    assert.equal(SOURCE_DATE_EPOCH, 946684800);
    assert.equal(SOURCE_DATE_EPOCH * 1000, STAGED_TIME.getTime());
    assert.deepEqual(reproducibleBuildArgs(), { SOURCE_DATE_EPOCH: "946684800" });
  });

  it("each image is named by its own inputs: a lock edit moves its family only, a source edit its services only, a profile edit nothing", () => {
    const dir = tempProject();
    const before = imagesOf(dir, "mainpc");
    for (const i of Object.values(before)) {
      assert.match(i.tag, /^src-[0-9a-f]{12}$/);
      assert.equal(i.tag, `src-${i.labels["dev.fleet.inputs"].slice(0, 12)}`);
      assert.deepEqual(Object.keys(i.labels).filter((l) => /revision|created/.test(l)), [], "no commit or commit time is baked into an image");
    }
    fs.appendFileSync(path.join(dir, "dockerfiles", "requirements", "family-web.lock"), "\n");
    const lock = imagesOf(dir, "mainpc");
    assert.deepEqual(changed(before, lock), ["family-web"], "the family's descendants follow through its digest, a build input of their own");
    fs.appendFileSync(path.join(dir, "examples", "reference-service", "app", "settings.py"), "\n");
    const source = imagesOf(dir, "mainpc");
    const fleet = resolveStack(dir, "mainpc");
    const services = [...fleet.services, ...fleet.imagesOnly].map((s) => s.name).sort();
    assert.deepEqual(changed(lock, source), services);
    assert.notEqual(source.ServiceRegistry.buildArgs.FLEET_INPUTS, lock.ServiceRegistry.buildArgs.FLEET_INPUTS);
    fs.appendFileSync(path.join(dir, "profiles", "mainpc.json"), "\n");
    fs.appendFileSync(path.join(dir, "examples", "reference-service", "README.md"), "\nmore words\n");
    assert.deepEqual(changed(source, imagesOf(dir, "mainpc")), [], "a profile, or a file the service's .dockerignore leaves out, is no image input");
  });
});

describe("image identity in a depth-1 clone", function () {
  this.timeout(60_000);

  it("is the same as in the full clone, whatever the history; a change to one service's source renames that image only", () => {
    const origin = tempProject();
    fs.cpSync(path.join(origin, "examples", "reference-service"), path.join(origin, "services", "ceb"), { recursive: true });
    addConfig(origin, "local", "fleet:sources: { CentralErrorBus: services/ceb }");
    git(origin, "init", "-q");
    commitAll(origin, "everything");
    fs.writeFileSync(path.join(origin, "NOTES.md"), "a commit that touches no image input\n");
    commitAll(origin, "notes");

    const clones = tempDir("fleet-clones-");
    const full = path.join(clones, "full");
    const shallow = path.join(clones, "shallow");
    git(clones, "clone", "-q", `file://${origin}`, full);
    git(clones, "clone", "-q", "--depth", "1", `file://${origin}`, shallow);
    assert.equal(git(shallow, "rev-list", "--count", "HEAD"), "1", "the clone is shallow");
    assert.equal(git(full, "rev-list", "--count", "HEAD"), "2");

    const head = git(full, "rev-parse", "HEAD");
    for (const stack of ["local", "mainpc"]) {
      const inFull = imagesOf(full, stack);
      assert.deepEqual(imagesOf(shallow, stack), inFull, `${stack}: tags, labels and build args`);
      assert.equal(JSON.stringify(inFull).includes(head.slice(0, 7)), false, `${stack}: the commit is baked into no image`);
      assert.equal(resolveStack(shallow, stack).commit, head, "the commit is still known, for the inventory report");
    }

    const before = imagesOf(shallow, "local");
    fs.appendFileSync(path.join(shallow, "services", "ceb", "app", "__init__.py"), "# changed\n");
    git(shallow, "commit", "-qam", "CentralErrorBus source");
    const after = imagesOf(shallow, "local");
    assert.deepEqual(changed(before, after), ["CentralErrorBus"]);
    assert.notEqual(after.CentralErrorBus.labels["dev.fleet.inputs"], before.CentralErrorBus.labels["dev.fleet.inputs"]);
    assert.deepEqual({ ...after, CentralErrorBus: undefined }, { ...before, CentralErrorBus: undefined }, "every other image keeps its tag, labels and build args");
  });
});

describe("image export", () => {
  it("exports once, to the registry, with rewritten timestamps and OCI media types; plain HTTP only when the rule says so", () => {
    assert.equal(registryExport("127.0.0.1:5000/fleet/family-web:src-0123456789ab", true), "type=image,name=127.0.0.1:5000/fleet/family-web:src-0123456789ab,push=true,rewrite-timestamp=true,oci-mediatypes=true,registry.insecure=true");
    assert.equal(registryExport("registry.example:5000/fleet/family-web:x", false), "type=image,name=registry.example:5000/fleet/family-web:x,push=true,rewrite-timestamp=true,oci-mediatypes=true");
  });
});

describe("staged build contexts", () => {
  it("carry one fixed time on every file and folder, whenever they were staged", async () => {
    const { stageContext, contextFilesOf, STAGED_TIME } = await import("../../source/stage");
    const os = await import("os");
    const src = tempDir("fleet-src-");
    fs.mkdirSync(path.join(src, "app"));
    fs.writeFileSync(path.join(src, "app", "x.py"), "x = 1\n");
    const dir = stageContext(contextFilesOf(src), tempDir("fleet-stage-"));
    for (const p of [dir, path.join(dir, "app"), path.join(dir, "app", "x.py")]) assert.equal(fs.statSync(p).mtimeMs, STAGED_TIME.getTime(), p);
  });
});
