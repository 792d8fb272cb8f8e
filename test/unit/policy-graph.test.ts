import type { ResourceValidationPolicy } from "@pulumi/policy";
import { strict as assert } from "assert";
import { fleetPolicies, stackFacts } from "../../policy/policies";
import { FAMILIES, SERVICES } from "../../catalog";
import { fakeDigest, Registered, runProgram } from "../support/mocks";
import { tempProject } from "../support/project";

/**
 * Registers `stack`'s program under mocks and returns the resources and the stack's raw fleet:
 * config. pc2 reads its images from mainpc's `images` and `families` outputs (fleet:imagesFrom): `images` and `families` stand in.
 */
async function graphOf(stack: string, images: Record<string, string> = {}, families: Record<string, string> = {}): Promise<{ resources: Registered[]; config: Record<string, unknown> }> {
  const projectDir = tempProject();
  const { readStackConfig } = await import("../../stack");
  const config = Object.fromEntries(Object.entries(readStackConfig(projectDir, stack).raw).map(([k, v]) => [`fleet:${k}`, v]));
  const { registered } = await runProgram(stack, projectDir, { "organization/fleet/mainpc": { images, families } });
  return { resources: registered, config };
}

/**
 * The pack's resource policies over what each committed stack really registers (under mocks): the
 * program and the pack agree. The PIDs policy looks at the whole stack and is exercised by the
 * policy unit tests and the e2e run of the pack.
 */
describe("policy pack on the program's own resources", function () {
  this.timeout(60000);
  for (const stack of ["local", "pc2", "mainpc"]) {
    it(`${stack}: every resource policy passes, except publishing on 0.0.0.0 without the opt-in`, async () => {
      const images = Object.fromEntries(SERVICES.map((s) => [s.name, `127.0.0.1:5000/fleet/${s.name.toLowerCase()}@${fakeDigest(s.name)}`]));
      const families = Object.fromEntries(FAMILIES.map((f) => [f.name, `127.0.0.1:5000/fleet/${f.name}@${fakeDigest(f.name)}`]));
      const { resources, config } = await graphOf(stack, images, families);
      const facts = stackFacts(config);
      const found: string[] = [];
      const policies = fleetPolicies(facts).filter((p): p is ResourceValidationPolicy => "validateResource" in p);
      for (const r of resources) {
        for (const p of policies) {
          for (const v of [p.validateResource ?? []].flat()) {
            await v({ type: r.type, props: r.inputs, urn: r.name, name: r.name } as never, (m) => void found.push(`${p.name}: ${m}`));
          }
        }
      }
      assert.ok(resources.some((r) => r.type === "docker:index/container:Container"));
      const allInterfaces = config["fleet:bindAddress"] === "0.0.0.0" && !facts.publishAllInterfaces;
      const expected = found.filter((f) => allInterfaces && f.startsWith("no-publish-on-all-interfaces:"));
      assert.deepEqual(found.filter((f) => !expected.includes(f)), [], `${stack} breaks the pack`);
      if (allInterfaces) assert.ok(expected.length > 0, "0.0.0.0 without fleet:publishAllInterfaces is a violation");
    });
  }
});
