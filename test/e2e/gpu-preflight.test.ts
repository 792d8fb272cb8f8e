import { strict as assert } from "assert";
import { gpuPreflight, PreflightError } from "../../preflight/gpu";
import { resolveStack } from "../../stack";
import { exec } from "../../proc";
import { DOCKER } from "../support/docker";
import { tempProject } from "../support/project";

/**
 * The GPU preflight against this machine's real Docker engine, which has no GPU: the mainpc and
 * pc2 stacks (GPU services, real profiles) must be refused with the engine named, before anything
 * is created. Read-only against the engine (docker info); a few seconds.
 */
describe("GPU preflight on a GPU-less engine (real docker info)", function () {
  before(async function () {
    if ((await exec(DOCKER, ["info"])).status !== 0) throw new Error("needs a Docker engine on unix:///var/run/docker.sock (npm run infra)");
  });

  for (const stack of ["mainpc", "pc2"]) {
    it(`refuses ${stack}: no NVIDIA runtime, no CDI devices`, async function () {
      const dir = tempProject();
      const fleet = resolveStack(dir, stack);
      const { stdout: version } = await exec(DOCKER, ["version", "--format", "{{.Server.Version}}"]);
      assert.throws(() => gpuPreflight(fleet), (e: unknown) => {
        assert.ok(e instanceof PreflightError, String(e));
        const lines = e.message.split("\n");
        assert.equal(lines[0], `fleet: stack ${stack} cannot run on its Docker host; nothing was changed:`);
        assert.equal(lines.length, 2);
        assert.match(lines[1], new RegExp(`^  fleet:dockerHost unix:///var/run/docker.sock: engine \\S+ \\(Docker ${version.trim().replace(/[.+]/g, "\\$&")}\\) has no NVIDIA runtime registered and no CDI GPU devices, so .*RealTimeAudioPipeline cannot get a GPU`));
        return true;
      });
    });
  }
});
