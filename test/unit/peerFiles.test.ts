import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { bakeFile, BakeFile, composeFile, ComposeFile } from "../../bench/peerFiles";
import { ResolvedFleet } from "../../stack";
import { Registered, runProgram } from "../support/mocks";
import { tempProject } from "../support/project";

const IMAGE = "docker-build:index:Image";
const CONTAINER = "docker:index/container:Container";

/** The program's registrations for `stack` under mocks, and the fleet it resolved. */
const programOf = (stack: string, projectDir: string) => runProgram(stack, projectDir);

describe("the peers' bake and compose files", function () {
  this.timeout(60000);
  for (const stack of ["local", "mainpc"]) {
    describe(stack, () => {
      let projectDir: string;
      let fleet: ResolvedFleet;
      let registered: Registered[];
      let bake: BakeFile;
      let compose: ComposeFile;
      before(async () => {
        projectDir = tempProject();
        ({ fleet, registered } = await programOf(stack, projectDir));
        // The engine of runProgram's fixture trusts the home registry, and 127.0.0.0/8 by default.
        // The pip-ca folder the program staged (every image binds the same one).
        const pipCa: string = registered.find((r) => r.type === IMAGE)!.inputs.context.named["pip-ca"].location;
        bake = bakeFile(fleet, projectDir, true, pipCa);
        compose = composeFile(fleet, "peer");
      });
      const images = () => registered.filter((r) => r.type === IMAGE);
      // The services' containers; the program publishes their host ports from the stack's ports (components/stackPorts.ts), compose on each.
      const all = () => registered.filter((r) => r.type === CONTAINER);
      const containers = () => all().filter((r) => !r.name.endsWith("-ports-container"));
      const published = () => all().find((r) => r.name.endsWith("-ports-container"))!.inputs.ports as { internal: number; external: number; ip: string; protocol: string }[];
      /** The image resource of a bake target: `fleet-<target>-image`. */
      const imageOf = (target: string) => images().find((r) => r.name === `fleet-${target}-image`)!;

      it("has one bake target per image the program builds, and one compose service per container", () => {
        assert.equal(Object.keys(bake.target).length, images().length);
        assert.deepEqual([...bake.group.default.targets].sort(), Object.keys(bake.target).sort());
        for (const t of Object.keys(bake.target)) assert.ok(imageOf(t), `no program image for bake target ${t}`);
        assert.equal(Object.keys(compose.services).length, containers().length);
      });

      it("builds each target from the program's Dockerfile, tags, labels, platforms, registry cache and exporter", () => {
        for (const [name, t] of Object.entries(bake.target)) {
          const img = imageOf(name).inputs;
          const dockerfile = fs.readFileSync(path.resolve(projectDir, t.context, t.dockerfile), "utf8");
          assert.equal(dockerfile, fs.readFileSync(img.dockerfile.location, "utf8"), name);
          assert.deepEqual(t.tags, img.tags, name);
          assert.deepEqual(t.labels, img.labels, name);
          assert.deepEqual(t.platforms, img.platforms, name);
          assert.deepEqual(t["cache-from"], [`type=registry,ref=${img.cacheFrom[0].registry.ref}`], name);
          assert.ok(t["cache-to"][0].startsWith(`type=registry,ref=${img.cacheTo[0].registry.ref},mode=max`), name);
          assert.deepEqual(t.output, img.exports.map((e: { raw: string }) => e.raw), name);
          assert.equal(t.contexts?.["pip-ca"], img.context.named["pip-ca"].location, `${name}: the same pip-ca context`);
        }
      });

      it("passes the same build args, a parent image arriving as a named context on its parent's target", () => {
        for (const [name, t] of Object.entries(bake.target)) {
          const args = imageOf(name).inputs.buildArgs as Record<string, string>;
          assert.deepEqual(Object.keys(t.args).sort(), Object.keys(args).sort(), name);
          for (const [k, v] of Object.entries(t.args)) {
            const parent = t.contexts?.[v];
            if (parent) {
              // The program passes the parent's pushed `repo@sha256:`; bake the parent target itself.
              const parentTarget = parent.replace(/^target:/, "");
              assert.ok(bake.target[parentTarget], `${name}: ${k} names unknown target ${parentTarget}`);
              assert.ok(args[k].startsWith(`${imageOf(parentTarget).inputs.tags[0].replace(/:[^:/]+$/, "")}@sha256:`), `${name}: ${k}`);
            } else assert.equal(v, args[k], `${name}: ${k}`);
          }
        }
      });

      it("stages the same files the program stages as each target's context", () => {
        for (const [name, t] of Object.entries(bake.target)) {
          const staged = imageOf(name).inputs.context.location as string;
          for (const rel of filesUnder(staged)) {
            assert.equal(fs.readFileSync(path.join(staged, rel), "utf8"), fs.readFileSync(path.resolve(projectDir, t.context, rel), "utf8"), `${name}: ${rel}`);
          }
        }
      });

      it("runs every container with the program's user, environment, published ports, healthcheck, limits and hardening", () => {
        for (const c of containers()) {
          // The program's container is named after its settings too (`<prefix>-<slug>-<hash>`).
          const slug = (c.inputs.name as string).slice(`${fleet.prefix}-`.length).replace(/-[0-9a-f]{8}$/, "");
          const s = compose.services[slug];
          assert.ok(s, `no compose service for ${c.inputs.name}`);
          assert.equal(s.user, c.inputs.user);
          assert.deepEqual(Object.entries(s.environment).map(([k, v]) => `${k}=${v}`).sort(), [...c.inputs.envs].sort());
          const own = published().filter((p) => s.ports.some((q) => q.target === p.internal));
          assert.deepEqual(
            s.ports.map((p) => ({ internal: p.target, external: Number(p.published), ip: p.host_ip, protocol: p.protocol })),
            own,
          );
          assert.equal(own.length, 2, `${slug}: its service and health ports`);
          assert.deepEqual(s.healthcheck.test, c.inputs.healthcheck.tests);
          assert.equal(s.healthcheck.interval, c.inputs.healthcheck.interval);
          assert.equal(s.read_only, c.inputs.readOnly);
          assert.equal(s.mem_limit, `${c.inputs.memory}m`);
          assert.equal(s.memswap_limit, `${c.inputs.memorySwap}m`);
          assert.equal(s.cpu_shares, c.inputs.cpuShares);
          assert.deepEqual(s.cap_drop, c.inputs.capabilities.drops);
          assert.deepEqual(s.security_opt, c.inputs.securityOpts);
          assert.deepEqual(s.tmpfs, Object.entries(c.inputs.tmpfs).map(([k, v]) => `${k}:${v}`));
          assert.equal(s.restart, c.inputs.restart);
          assert.equal(Boolean(s.deploy), Boolean(c.inputs.deviceRequests));
          for (const p of s.ports) assert.equal(p.host_ip, fleet.bindAddress);
        }
      });

      it("runs the images bake pushes: each compose image is a bake target's tag", () => {
        const tags = new Set(Object.values(bake.target).flatMap((t) => t.tags));
        for (const [slug, s] of Object.entries(compose.services)) assert.ok(tags.has(s.image), `${slug}: ${s.image}`);
      });
    });
  }
});

function filesUnder(dir: string, rel = ""): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const child = rel ? `${rel}/${e.name}` : e.name;
    return e.isDirectory() ? filesUnder(dir, child) : [child];
  });
}
