import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { run } from "../../proc";
import { REPO, tempDir } from "../support/project";

/**
 * An end-to-end suite's work folder (its clones, state and logs; the home rehearsal's is gigabytes)
 * goes when the suite passed and stays, named on stderr, when it did not. Each case runs mocha on a
 * suite of its own in a child process, since the folder is removed when the process exits.
 */
describe("tempDir: a suite's work folder", function () {
  const specs = tempDir("fleet-tempdir-test-");

  /** Runs a suite whose one test passes or not (or whose after hook throws) and returns the folder it made and mocha's stderr. */
  const suite = (name: string, body: string, afterHook = ""): { dir: string; stderr: string; status: number | null } => {
    const record = path.join(specs, `${name}.dir`);
    const spec = path.join(specs, `${name}.spec.ts`);
    fs.writeFileSync(
      spec,
      [
        `import * as fs from "fs";`,
        `import { tempDir } from ${JSON.stringify(path.join(REPO, "test/support/project"))};`,
        `describe("a suite", function () {`,
        `  const work = tempDir("fleet-tempdir-case-", this);`,
        `  fs.writeFileSync(${JSON.stringify(record)}, work);`,
        `  it("works in its folder", () => { fs.writeFileSync(work + "/log", "x"); ${body} });`,
        afterHook ? `  after(() => { ${afterHook} });` : "",
        `});`,
      ].join("\n"),
    );
    const r = run(path.join(REPO, "node_modules/.bin/mocha"), ["--no-config", "-r", "ts-node/register/transpile-only", "--extension", "ts", spec], { cwd: REPO });
    return { dir: fs.readFileSync(record, "utf8"), stderr: r.stderr, status: r.status };
  };

  it("is removed when every test of its suite passed", function () {
    this.timeout(60_000);
    const r = suite("passes", "");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.existsSync(r.dir), false, `${r.dir} should be gone`);
  });

  it("stays, with its path printed, when a test failed or a hook threw", function () {
    this.timeout(60_000);
    for (const r of [suite("fails", `throw new Error("no");`), suite("hook", "", `throw new Error("cleanup failed");`)]) {
      assert.notEqual(r.status, 0);
      assert.ok(fs.existsSync(path.join(r.dir, "log")), `${r.dir} should be kept`);
      assert.match(r.stderr, new RegExp(`kept for a look, because a test of "a suite" did not pass: ${r.dir}`));
      fs.rmSync(r.dir, { recursive: true, force: true });
    }
  });
});
