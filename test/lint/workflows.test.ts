import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { must, run } from "../support/engine";
import { REPO, tempDir } from "../support/project";

/**
 * actionlint over every workflow, with .github/actionlint.yaml naming the self-hosted labels. The
 * linter is compiled from its Go module by scripts/go-tool.sh (a minute or two the first time,
 * cached after), which is why this suite is not part of the fast unit tests.
 */
describe("GitHub Actions workflows", function () {
  let actionlint = "";

  before(function () {
    actionlint = must("bash", ["scripts/go-tool.sh", "actionlint", "github.com/rhysd/actionlint", "v1.7.12", "./cmd/actionlint"], { cwd: REPO, timeoutSeconds: 900 }).stdout.trim().split("\n").pop()!;
  });

  it("are clean under actionlint, self-hosted labels included", () => {
    const files = fs.readdirSync(path.join(REPO, ".github/workflows")).filter((f) => /\.ya?ml$/.test(f));
    assert.deepEqual(files.sort(), ["ci.yml", "deploy.yml", "drift.yml"]);
    const r = run(actionlint, ["-no-color", ...files.map((f) => `.github/workflows/${f}`)], { cwd: REPO });
    assert.equal(r.status, 0, `actionlint found problems:\n${r.stdout}${r.stderr}`);
  });

  it("would catch a runner label the config does not name (the lint is not vacuous)", () => {
    const dir = tempDir("fleet-actionlint-");
    fs.mkdirSync(path.join(dir, ".github/workflows"), { recursive: true });
    fs.copyFileSync(path.join(REPO, ".github/actionlint.yaml"), path.join(dir, ".github/actionlint.yaml"));
    // A git repository, as the project is: actionlint finds its config from the project's root.
    run("git", ["init", "-q"], { cwd: dir });
    const deploy = fs.readFileSync(path.join(REPO, ".github/workflows/deploy.yml"), "utf8");
    assert.ok(deploy.includes("runs-on: [self-hosted, pc2]"));
    const ci = deploy.replace("runs-on: [self-hosted, pc2]", "runs-on: [self-hosted, pc3]");
    fs.writeFileSync(path.join(dir, ".github/workflows/deploy.yml"), ci);
    const r = run(actionlint, ["-no-color", ".github/workflows/deploy.yml"], { cwd: dir });
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /label "pc3" is unknown/);
    assert.doesNotMatch(r.stdout, /label "mainpc" is unknown/, "the config's labels are known");
  });
});
