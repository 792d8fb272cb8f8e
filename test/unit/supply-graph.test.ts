import { strict as assert } from "assert";
import { runProgram } from "../support/mocks";
import { tempProject } from "../support/project";

const SBOM = "pulumi-nodejs:dynamic/fleet:ImageSbom";
const GATE = "pulumi-nodejs:dynamic/fleet:ScanGate";
const REPORT = "pulumi-nodejs:dynamic/fleet:InventoryReport";

/** What the program registers for `stack` under mocks. */
const registered = async (stack: string, projectDir = tempProject()) => (await runProgram(stack, projectDir)).registered;

describe("the supply chain in the resource graph", function () {
  this.timeout(60000);

  it("gives every service of the local stack an SBOM, a gate on its digest and a report", async () => {
    const all = await registered("local");
    for (const type of [SBOM, GATE, REPORT]) assert.equal(all.filter((r) => r.type === type).length, 10, type);
    const gate = all.find((r) => r.type === GATE && r.name.endsWith("central-error-bus-scan"))!;
    assert.match(gate.inputs.image, /^127\.0\.0\.1:5000\/fleet\/central-error-bus@sha256:[0-9a-f]{64}$/);
    assert.deepEqual([gate.inputs.severity, gate.inputs.failOnUnfixed, gate.inputs.dbDir, gate.inputs.allowlist], ["HIGH", false, "", []]);
    const report = all.find((r) => r.type === REPORT && r.name.endsWith("central-error-bus-report"))!;
    assert.equal(report.inputs.url, "http://127.0.0.1:9100/sbom", "UnifiedObservabilityCenter's service port");
    const image = all.find((r) => r.type === "docker-build:index:Image" && r.name.endsWith("central-error-bus-image"))!;
    assert.match(report.inputs.inputs, /^[0-9a-f]{64}$/);
    assert.equal(report.inputs.inputs, image.inputs.labels["dev.fleet.inputs"], "the report names the inputs the image carries");
    assert.equal(report.inputs.commit, "unknown", "the temp project is no git checkout");
  });

  it("sends no report on a stack without the ObservabilityCenter, and still gates every digest", async () => {
    const text = require("fs").readFileSync(require("path").join(__dirname, "../../Pulumi.local.yaml"), "utf8").replace(/^config:\n/m, "config:\n  fleet:services: { names: [CentralErrorBus, ServiceRegistry] }\n");
    const all = await registered("local", tempProject({ "Pulumi.local.yaml": text }));
    assert.equal(all.filter((r) => r.type === GATE).length, 2);
    assert.equal(all.filter((r) => r.type === REPORT).length, 0);
  });

  it("takes the gate's settings and allowlist from the stack and security/allowlist.yaml", async () => {
    const text = require("fs").readFileSync(require("path").join(__dirname, "../../Pulumi.local.yaml"), "utf8").replace(/^config:\n/m, "config:\n  fleet:scanSeverity: CRITICAL\n  fleet:scanFailOnUnfixed: true\n");
    const allowlist = `entries:\n  - id: CVE-2024-1135\n    reason: accepted in this test\n    expires: "2099-01-01"\n`;
    const all = await registered("local", tempProject({ "Pulumi.local.yaml": text, "security/allowlist.yaml": allowlist }));
    const gate = all.find((r) => r.type === GATE)!;
    assert.deepEqual([gate.inputs.severity, gate.inputs.failOnUnfixed, gate.inputs.allowlist], ["CRITICAL", true, [{ id: "CVE-2024-1135", reason: "accepted in this test", expires: "2099-01-01" }]]);
  });
});
