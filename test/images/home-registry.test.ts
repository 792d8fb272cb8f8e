import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { must, run } from "../support/engine";
import { REPO, tempDir } from "../support/project";

/** The home registry command, run here on loopback with its config and storage in a temp folder. */
describe("scripts/home-registry.sh", function () {
  const dir = tempDir("fleet-home-registry-", this);
  const env = { ...process.env, FLEET_REGISTRY_CONFIG: path.join(dir, "config.yml"), FLEET_REGISTRY_STORAGE: path.join(dir, "storage"), FLEET_NO_SYSTEMD: "1" };
  const addr = "127.0.0.1:5011";

  after(() => {
    const pid = path.join(dir, "registry.pid");
    if (fs.existsSync(pid)) run("kill", [fs.readFileSync(pid, "utf8").trim()], { cwd: dir });
  });

  it("runs a registry that takes pushes and refuses deletes, and refuses a malformed address", () => {
    assert.match(must("bash", ["scripts/home-registry.sh", addr], { cwd: REPO, env }).stdout, /home registry answering on http:\/\/127\.0\.0\.1:5011/);
    const base = fs.readFileSync(path.join(REPO, ".fleet/base-image.ref"), "utf8").trim();
    must("skopeo", ["copy", "--src-tls-verify=false", "--dest-tls-verify=false", `docker://${base}`, `docker://${addr}/fleet/debian-bookworm:base`], { cwd: REPO });
    const digest = base.split("@")[1];
    const del = run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE", `http://${addr}/v2/fleet/debian-bookworm/manifests/${digest}`], { cwd: REPO });
    assert.equal(del.stdout, "405", "a delete is refused");
    must("skopeo", ["inspect", "--tls-verify=false", "--raw", `docker://${addr}/fleet/debian-bookworm@${digest}`], { cwd: REPO });
    const bad = run("bash", ["scripts/home-registry.sh", "registry:5000"], { cwd: REPO, env });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /usage: home-registry\.sh ADDRESS:PORT \(like 0\.0\.0\.0:5000\); got 'registry:5000'/);
  });
});
