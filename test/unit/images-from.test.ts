import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { FleetInputError } from "../../errors";
import { renderFleet, resolveStack } from "../../stack";
import { REPO, tempProject } from "../support/project";

/** pc2's stack file with `lines` added to its config. */
const pc2With = (...lines: string[]) => fs.readFileSync(path.join(REPO, "Pulumi.pc2.yaml"), "utf8").replace(/^config:\n/m, `config:\n${lines.map((l) => `  ${l}\n`).join("")}`);

function rejects(text: string, re: RegExp) {
  assert.throws(() => resolveStack(tempProject({ "Pulumi.pc2.yaml": text }), "pc2"), (e: unknown) => e instanceof FleetInputError && re.test(e.message));
}

describe("build once, run on both", () => {
  it("mainpc builds the whole catalog: nine services run, CentralErrorBus built only", () => {
    const out = renderFleet(resolveStack(tempProject(), "mainpc")) as any;
    assert.equal(out.services.length, 9);
    assert.deepEqual(out.imagesOnly, ["CentralErrorBus"]);
    assert.equal(out.families.length, 5);
  });

  it("pc2 takes every image from mainpc and builds no family", () => {
    const out = renderFleet(resolveStack(tempProject(), "pc2")) as any;
    assert.equal(out.imagesFrom, "organization/fleet/mainpc");
    assert.deepEqual(out.families, []);
    assert.deepEqual(out.imagesOnly, []);
    for (const s of out.services) assert.deepEqual(s.image, { fromStack: "organization/fleet/mainpc" }, s.name);
  });

  it("a forced image still wins over the images stack", () => {
    const forced = `registry.home.arpa:5000/fleet/central-error-bus@sha256:${"ef".repeat(32)}`;
    const out = renderFleet(resolveStack(tempProject({ "Pulumi.pc2.yaml": pc2With(`fleet:images: { CentralErrorBus: "${forced}" }`).replace(/^  fleet:images: \{\}\n/m, "") }), "pc2")) as any;
    assert.deepEqual(out.services.find((s: any) => s.name === "CentralErrorBus").image, { pinned: forced });
  });

  it("the CPU stand-ins of the two machines (the two-machines e2e) resolve: nine and five services, no GPU", () => {
    const cpu = (stack: string, profile: string) =>
      fs.readFileSync(path.join(REPO, `Pulumi.${stack}.yaml`), "utf8").replace(/^  fleet:profile: .*$/m, `  fleet:profile: ${profile}\n  fleet:cpuOnly: "true"\n  fleet:locks: cpu`);
    const dir = tempProject({ "Pulumi.mainpc.yaml": cpu("mainpc", "mainpc-cpu"), "Pulumi.pc2.yaml": cpu("pc2", "pc2-cpu") });
    const a = renderFleet(resolveStack(dir, "mainpc")) as any;
    const b = renderFleet(resolveStack(dir, "pc2")) as any;
    assert.deepEqual([a.services.length, b.services.length], [9, 5]);
    assert.ok([...a.services, ...b.services].every((s: any) => !s.gpu && s.gpuDevices.length === 0));
    assert.equal(a.services.find((s: any) => s.name === "SelfHealingSupervisor").env.OMP_NUM_THREADS, "16");
    assert.equal(b.services.find((s: any) => s.name === "SelfHealingSupervisor").env.OMP_NUM_THREADS, "4");
  });

  describe("rejects", () => {
    it("a stack that both builds the catalog and takes images from another", () =>
      rejects(pc2With('fleet:buildCatalog: "true"'), /Pulumi.pc2.yaml: fleet:imagesFrom: a stack either builds the catalog's images \(fleet:buildCatalog: true\) or takes them from another stack \(fleet:imagesFrom\), not both/));
    it("sources on a stack that builds nothing", () =>
      rejects(pc2With("fleet:sources: { CentralErrorBus: examples/reference-service }"), /Pulumi.pc2.yaml: fleet:sources: fleet:sources has no effect on a stack that takes its images from another stack/));
    it("an images stack name that is not one", () =>
      rejects(pc2With("fleet:imagesFrom: a/b/c/d").replace(/^  fleet:imagesFrom: organization.*\n/m, ""), /Pulumi.pc2.yaml: fleet:imagesFrom: must name the stack that builds the images, like organization\/fleet\/mainpc \(or just mainpc\); got "a\/b\/c\/d"/));
  });
});
