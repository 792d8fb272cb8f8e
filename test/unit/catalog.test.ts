import { strict as assert } from "assert";
import { buildCatalog, FAMILIES, lineage, runsOn, SERVICES } from "../../catalog";
import { FleetInputError } from "../../errors";

const svc = (over: object = {}) => ({ ...SERVICES[0], ...over });

describe("catalog", () => {
  const catalog = buildCatalog();

  it("holds the plan's ten services and five families", () => {
    assert.equal(catalog.services.length, 10);
    assert.deepEqual(catalog.families.map((f) => f.name).sort(), ["base-cpu-pydeps", "family-cpu-pydeps", "family-llm-cu121", "family-torch-cu121", "family-web"]);
  });

  it("orders families parents first, with base-cpu-pydeps the only root", () => {
    const names = catalog.families.map((f) => f.name);
    for (const f of catalog.families) if (f.parent) assert.ok(names.indexOf(f.parent) < names.indexOf(f.name), `${f.parent} before ${f.name}`);
    assert.deepEqual(catalog.families.filter((f) => f.parent === null).map((f) => f.name), ["base-cpu-pydeps"]);
    assert.deepEqual(lineage(catalog.families, "family-llm-cu121").map((f) => f.name), ["family-llm-cu121", "family-torch-cu121", "base-cpu-pydeps"]);
  });

  it("matches the plan's table of families, placements and ports", () => {
    const row = (name: string) => catalog.services.find((s) => s.name === name)!;
    assert.deepEqual(row("ModelOpsCoordinator"), { name: "ModelOpsCoordinator", placement: "mainpc", family: "family-llm-cu121", ports: { service: 7212, health: 8212 }, phase: "4.2", gpu: true });
    assert.deepEqual(row("SelfHealingSupervisor").ports, { service: 7009, health: 9008 });
    assert.equal(row("CentralErrorBus").placement, "pc2");
    assert.equal(row("UnifiedObservabilityCenter").family, "family-web");
    assert.deepEqual(row("MemoryFusionHub"), { name: "MemoryFusionHub", placement: "both", family: "family-cpu-pydeps", ports: { service: 5713, health: 6713 }, phase: "4.4", gpu: false });
  });

  it("marks exactly the services of GPU families as needing a GPU", () => {
    assert.deepEqual(catalog.services.filter((s) => s.gpu).map((s) => s.name).sort(), ["AffectiveProcessingCenter", "ModelOpsCoordinator", "RealTimeAudioPipeline"]);
  });

  it("places nine services on mainpc, five on pc2 and all ten on local", () => {
    const count = (m: "mainpc" | "pc2" | "local") => catalog.services.filter((s) => runsOn(s.placement, m)).length;
    assert.deepEqual([count("mainpc"), count("pc2"), count("local")], [9, 5, 10]);
  });

  describe("rejects", () => {
    it("a service of an unknown family, naming it and the known ones", () => {
      assert.throws(() => buildCatalog(FAMILIES, [svc({ family: "family-rust" })]), /catalog\/services\.ts: services\[0\]\.family: unknown family; known: base-cpu-pydeps.*; got "family-rust"/);
    });
    it("a family with an unknown parent", () => {
      assert.throws(() => buildCatalog([...FAMILIES, { name: "family-x", parent: "nope", gpu: false, description: "x" }], SERVICES), /families\[5\]\.parent: unknown family.*got "nope"/);
    });
    it("families that build FROM each other in a cycle", () => {
      const cyc = [
        { name: "a", parent: "b", gpu: false, description: "a" },
        { name: "b", parent: "a", gpu: false, description: "b" },
      ];
      assert.throws(() => buildCatalog([...FAMILIES, ...cyc], SERVICES), /cycle: a, b/);
    });
    it("a service listed twice", () => {
      assert.throws(() => buildCatalog(FAMILIES, [svc(), svc()]), /service "ServiceRegistry" is listed twice/);
    });
    it("two services on one machine with the same host port", () => {
      const clash = svc({ name: "Clash", ports: { service: 7201, health: 9999 } });
      assert.throws(() => buildCatalog(FAMILIES, [...SERVICES, clash]), /host port 7201 is used twice on mainpc \(UnifiedSystemAgent and Clash\)/);
    });
    it("a port of the wrong type or out of range", () => {
      assert.throws(() => buildCatalog(FAMILIES, [svc({ ports: { service: "7200", health: 80 } })]), (e: FleetInputError) => {
        assert.match(e.message, /services\[0\]\.ports\.service: Invalid input: expected number, received string; got "7200"/);
        assert.match(e.message, /services\[0\]\.ports\.health: must be 1024 or more.*; got 80/);
        return true;
      });
    });
    it("a service with a missing key or an unknown one", () => {
      const { family: _drop, ...noFamily } = SERVICES[0];
      assert.throws(() => buildCatalog(FAMILIES, [noFamily]), /services\[0\]\.family: is required/);
      assert.throws(() => buildCatalog(FAMILIES, [svc({ gpus: 1 })]), /services\[0\]: unknown key "gpus"/);
    });
  });
});
