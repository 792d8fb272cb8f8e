import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The repository root. */
export const REPO = path.resolve(__dirname, "..", "..");

/** A pinned reference that passes validation, for stacks in tests. */
export const PINNED_BASE = `127.0.0.1:5000/fleet/debian-bookworm@sha256:${"ab".repeat(32)}`;

/** A pinned base in the home registry, for the mainpc and pc2 stacks in tests. */
export const HOME_BASE = `registry.home.arpa:5000/fleet/debian-bookworm@sha256:${"12".repeat(32)}`;

/** Folders made by tempDir, and the suite whose verdict each waits for (none: always removed). */
const made: { dir: string; suite?: Mocha.Suite }[] = [];
process.on("exit", () => {
  for (const { dir, suite } of made) {
    if (suite && !allPassed(suite)) {
      console.error(`kept for a look, because a test of "${suite.fullTitle()}" did not pass: ${dir}`);
      continue;
    }
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      console.error(`could not remove ${dir}: ${(e as Error).message}`);
    }
  }
});

/** Every test of a suite and of the suites in it. */
export function testsOf(suite: Mocha.Suite): Mocha.Test[] {
  return [...suite.tests, ...suite.suites.flatMap(testsOf)];
}

/** Every hook of a suite and of the suites in it (Mocha keeps them in its suites' private lists). */
function hooksOf(suite: Mocha.Suite): Mocha.Hook[] {
  const { _beforeAll, _beforeEach, _afterEach, _afterAll } = suite as unknown as Record<string, Mocha.Hook[]>;
  return [..._beforeAll, ..._beforeEach, ..._afterEach, ..._afterAll, ...suite.suites.flatMap(hooksOf)];
}

/** Whether every test of a suite (and of the suites in it) passed or was skipped, and none of their hooks failed. */
function allPassed(suite: Mocha.Suite): boolean {
  return testsOf(suite).every((t) => t.state === "passed" || t.isPending()) && hooksOf(suite).every((h) => h.state !== "failed");
}

/**
 * A new folder under the system's temp folder, named `<prefix>XXXXXX`, removed when the test process
 * exits. Given the suite that works in it (`this` in a describe callback), it stays when any of that
 * suite's tests did not pass, and its path is printed: an end-to-end suite's logs, state and clones
 * are what a failure is read from; a passing run leaves nothing behind (the home rehearsal's is gigabytes).
 */
export function tempDir(prefix: string, suite?: Mocha.Suite): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push({ dir, suite });
  return dir;
}

/**
 * A throw-away copy of the project's inputs (Pulumi.yaml, stack files, profiles, the reference
 * service and Dockerfiles) in a temp directory, with `files` written over it. Returns its path.
 */
export function tempProject(files: Readonly<Record<string, string>> = {}): string {
  const dir = tempDir("fleet-test-");
  for (const f of fs.readdirSync(REPO).filter((f) => /^Pulumi\..*yaml$/.test(f))) fs.copyFileSync(path.join(REPO, f), path.join(dir, f));
  fs.cpSync(path.join(REPO, "profiles"), path.join(dir, "profiles"), { recursive: true });
  for (const d of ["examples", "dockerfiles"]) if (fs.existsSync(path.join(REPO, d))) fs.cpSync(path.join(REPO, d), path.join(dir, d), { recursive: true });
  fs.mkdirSync(path.join(dir, ".fleet"));
  fs.writeFileSync(path.join(dir, ".fleet", "base-image.ref"), `${PINNED_BASE}\n`);
  // What `npm run fleet -- base --stack mainpc|pc2` writes into the stack file at home.
  for (const stack of ["mainpc", "pc2"]) fs.appendFileSync(path.join(dir, `Pulumi.${stack}.yaml`), `  fleet:baseImage: ${HOME_BASE}\n`);
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}
