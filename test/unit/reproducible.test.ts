import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { isLoopbackRegistry, registryExport, reproducibleBuildArgs, sourceDateEpoch } from "../../components/images";
import { resolveStack } from "../../scripts/render";
import { tempProject } from "../support/project";

/** Commits everything in `dir` at `date` (author and committer), as `message`. */
function commitAt(dir: string, date: string, message: string) {
  const env = { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: dir, env, encoding: "utf8" });
  git("add", "-A");
  git("commit", "-qm", message);
}

describe("reproducible image settings", () => {
  it("SOURCE_DATE_EPOCH is the commit time in whole seconds", () => {
    assert.equal(sourceDateEpoch({ sha: "x", created: "2026-11-20T10:00:00Z", dirty: false }), 1795168800);
    assert.equal(sourceDateEpoch({ sha: "unknown", created: "1970-01-01T00:00:00Z", dirty: true }), 0);
    assert.throws(() => sourceDateEpoch({ sha: "x", created: "yesterday", dirty: false }), /no valid commit time: "yesterday"/);
  });

  it("each image's epoch is the last commit of its own inputs: a lock commit moves its family only, a source commit its services only", () => {
    const dir = tempProject();
    execFileSync("git", ["init", "-q"], { cwd: dir });
    commitAt(dir, "2026-01-01T00:00:00Z", "everything");
    fs.appendFileSync(path.join(dir, "dockerfiles", "requirements", "family-web.lock"), "\n");
    commitAt(dir, "2026-02-01T00:00:00Z", "web lock");
    fs.appendFileSync(path.join(dir, "examples", "reference-service", "app", "settings.py"), "\n");
    commitAt(dir, "2026-03-01T00:00:00Z", "service source");
    fs.appendFileSync(path.join(dir, "profiles", "mainpc.json"), "\n");
    commitAt(dir, "2026-04-01T00:00:00Z", "profile only: no image input");

    const fleet = resolveStack(dir, "mainpc");
    const epoch = (iso: string) => String(Date.parse(iso) / 1000);
    const family = (n: string) => reproducibleBuildArgs(fleet.families.find((f) => f.name === n)!.image).SOURCE_DATE_EPOCH;
    assert.equal(family("family-web"), epoch("2026-02-01T00:00:00Z"));
    assert.equal(family("base-cpu-pydeps"), epoch("2026-01-01T00:00:00Z"));
    assert.equal(family("family-torch-cu121"), epoch("2026-01-01T00:00:00Z"));
    for (const s of fleet.services) {
      assert.equal(s.image.kind, "build");
      if (s.image.kind === "build") assert.equal(reproducibleBuildArgs(s.image).SOURCE_DATE_EPOCH, epoch("2026-03-01T00:00:00Z"), s.name);
    }
  });

  it("exports once, to the registry, with rewritten timestamps and OCI media types; plain HTTP only to loopback", () => {
    assert.equal(registryExport("127.0.0.1:5000/fleet/family-web:20260101-abcdef0"), "type=image,name=127.0.0.1:5000/fleet/family-web:20260101-abcdef0,push=true,rewrite-timestamp=true,oci-mediatypes=true,registry.insecure=true");
    assert.equal(registryExport("registry.home.arpa:5000/fleet/family-web:x"), "type=image,name=registry.home.arpa:5000/fleet/family-web:x,push=true,rewrite-timestamp=true,oci-mediatypes=true");
    assert.deepEqual(["localhost:5000/a", "127.0.0.7:5000/a", "registry.home.arpa/a", "10.0.0.2:5000/a"].map(isLoopbackRegistry), [true, true, false, false]);
  });
});

describe("staged build contexts", () => {
  it("carry one fixed time on every file and folder, whenever they were staged", async () => {
    const { stageContext, contextFilesOf, STAGED_TIME } = await import("../../source/stage");
    const os = await import("os");
    const src = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-src-"));
    fs.mkdirSync(path.join(src, "app"));
    fs.writeFileSync(path.join(src, "app", "x.py"), "x = 1\n");
    const dir = stageContext(contextFilesOf(src), fs.mkdtempSync(path.join(os.tmpdir(), "fleet-stage-")));
    for (const p of [dir, path.join(dir, "app"), path.join(dir, "app", "x.py")]) assert.equal(fs.statSync(p).mtimeMs, STAGED_TIME.getTime(), p);
  });
});
