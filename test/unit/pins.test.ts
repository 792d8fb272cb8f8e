import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";
import { CliError } from "../../cli/args";
import { formatChanges, planRelease, planRollback } from "../../cli/pins";
import { StackFile } from "../../cli/stackFile";
import { UpdateRow } from "../../cli/stackHistory";
import { projectDefaults } from "../../stack";
import { tempProject } from "../support/project";

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const img = (slug: string, c: string) => ({ image: `127.0.0.1:5000/fleet/${slug}@${digest(c)}`, digest: digest(c) });

/** A stack's history: A (both services), B (CentralErrorBus changed), a failed update, a destroy, then C. */
function rows(): UpdateRow[] {
  const base = { time: "2026-11-27T13:00:00.000Z", commit: "abc", message: "", config: {}, changed: [] };
  return [
    { ...base, update: 1, kind: "update", result: "succeeded", services: { CentralErrorBus: img("central-error-bus", "a"), ServiceRegistry: img("service-registry", "1") } },
    { ...base, update: 2, kind: "update", result: "succeeded", services: { CentralErrorBus: img("central-error-bus", "b"), ServiceRegistry: img("service-registry", "1") } },
    { ...base, update: 3, kind: "update", result: "failed", services: { CentralErrorBus: img("central-error-bus", "b"), ServiceRegistry: img("service-registry", "1") } },
    { ...base, update: 4, kind: "destroy", result: "succeeded", services: {} },
    { ...base, update: 5, kind: "update", result: "succeeded", services: { CentralErrorBus: img("central-error-bus", "c"), ServiceRegistry: img("service-registry", "1") } },
  ];
}

/** Asserts that `fn` throws a one-line CliError matching `re`. */
function rejects(fn: () => unknown, re: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CliError, `expected a CliError, got ${e}`);
    assert.match(e.message, re);
    assert.ok(!e.message.includes("\n"), `one line: ${e.message}`);
    return true;
  });
}

describe("rollback pin planning", () => {
  it("pins every service update N ran to the image it ran then, keeping the stack's other pins", () => {
    const other = `127.0.0.1:5000/fleet/memory-fusion-hub@${digest("e")}`;
    const plan = planRollback("local", rows(), "1", [], { MemoryFusionHub: other });
    assert.equal(plan.target.update, 1);
    assert.deepEqual(plan.changes, [
      { service: "CentralErrorBus", from: digest("c"), to: digest("a"), image: img("central-error-bus", "a").image },
      { service: "ServiceRegistry", from: digest("1"), to: digest("1"), image: img("service-registry", "1").image },
    ]);
    assert.deepEqual(plan.images, { MemoryFusionHub: other, CentralErrorBus: img("central-error-bus", "a").image, ServiceRegistry: img("service-registry", "1").image });
  });

  it("pins only the named services", () => {
    const plan = planRollback("local", rows(), "2", ["CentralErrorBus", "CentralErrorBus"], {});
    assert.deepEqual(Object.keys(plan.images), ["CentralErrorBus"]);
    assert.equal(plan.changes.length, 1);
  });

  it("shows service, from and to, and says which services keep their digest", () => {
    const text = formatChanges(planRollback("local", rows(), "1", [], {}).changes);
    assert.match(text, /^service\s+from\s+to$/m);
    assert.match(text, new RegExp(`^CentralErrorBus\\s+${digest("c")}\\s+${digest("a")}$`, "m"));
    assert.match(text, new RegExp(`^ServiceRegistry\\s+${digest("1")}\\s+${digest("1")} \\(unchanged\\)$`, "m"));
  });

  describe("rejects", () => {
    it("a stack with no updates", () => rejects(() => planRollback("local", [], "1", [], {}), /^rollback: stack local has no updates yet/));
    it("an update number below the range", () => rejects(() => planRollback("local", rows(), "0", [], {}), /^rollback: --to must be an update number of stack local, from 1 to 5; got "0"$/));
    it("an update number above the range", () => rejects(() => planRollback("local", rows(), "6", [], {}), /from 1 to 5; got "6"$/));
    it("an update number that is not a number", () => rejects(() => planRollback("local", rows(), "latest", [], {}), /from 1 to 5; got "latest"$/));
    it("a failed update, listing the ones allowed", () =>
      rejects(() => planRollback("local", rows(), "3", [], {}), /^rollback: update 3 of stack local failed; pick a succeeded update from `fleet history --stack local`: 1, 2, 5$/));
    it("a destroy", () => rejects(() => planRollback("local", rows(), "4", [], {}), /^rollback: update 4 of stack local was a destroy and ran no services; pick a succeeded update .*: 1, 2, 5$/));
    it("an unknown service, listing the ones update N ran", () =>
      rejects(() => planRollback("local", rows(), "1", ["Nope"], {}), /^rollback: --service "Nope": update 1 of stack local ran no such service; it ran: CentralErrorBus, ServiceRegistry$/));
  });
});

describe("release pin planning", () => {
  const pins = { CentralErrorBus: img("central-error-bus", "a").image, ServiceRegistry: img("service-registry", "1").image };
  it("removes every pin", () => {
    const plan = planRelease("local", "Pulumi.local.yaml", pins, []);
    assert.deepEqual(plan.images, {});
    assert.deepEqual(plan.changes.map((c) => [c.service, c.from, c.to]), [["CentralErrorBus", digest("a"), null], ["ServiceRegistry", digest("1"), null]]);
  });
  it("removes only the named pins", () => assert.deepEqual(planRelease("local", "Pulumi.local.yaml", pins, ["CentralErrorBus"]).images, { ServiceRegistry: pins.ServiceRegistry }));
  it("rejects a service that has no pin, listing the pinned ones", () =>
    rejects(() => planRelease("local", "Pulumi.local.yaml", pins, ["Nope"]), /^release: --service "Nope": Pulumi\.local\.yaml fleet:images pins no such service; pinned: CentralErrorBus, ServiceRegistry$/));
});

describe("stack file edits", () => {
  it("set and remove pins and keep the file's comments and other keys", () => {
    const dir = tempProject();
    const before = fs.readFileSync(path.join(dir, "Pulumi.local.yaml"), "utf8");
    const file = new StackFile(dir, "local");
    assert.deepEqual(file.images(), {});
    file.setImages({ CentralErrorBus: img("central-error-bus", "a").image });
    file.save();
    const pinned = fs.readFileSync(path.join(dir, "Pulumi.local.yaml"), "utf8");
    assert.ok(pinned.startsWith(before.split("\n").slice(0, 2).join("\n")), "the leading comment is kept");
    assert.deepEqual(YAML.parse(pinned).config["fleet:images"], { CentralErrorBus: img("central-error-bus", "a").image });
    assert.equal(YAML.parse(pinned).encryptionsalt, YAML.parse(before).encryptionsalt);
    const again = new StackFile(dir, "local");
    assert.deepEqual(again.images(), { CentralErrorBus: img("central-error-bus", "a").image });
    again.setImages({});
    again.save();
    assert.equal(fs.readFileSync(path.join(dir, "Pulumi.local.yaml"), "utf8"), before, "removing the last pin gives back the file as it was");
  });

  it("restore an update's fleet config and report the keys that changed", () => {
    const dir = tempProject();
    const file = new StackFile(dir, "local");
    const old = { ...file.fleetConfig(), "fleet:healthTimeoutSeconds": "60", "fleet:profile": "local" };
    delete (old as Record<string, unknown>)["fleet:locks"];
    assert.deepEqual(file.restoreFleetConfig(old), ["fleet:healthTimeoutSeconds", "fleet:locks"]);
    file.save();
    const config = YAML.parse(fs.readFileSync(path.join(dir, "Pulumi.local.yaml"), "utf8")).config;
    assert.equal(config["fleet:healthTimeoutSeconds"], "60");
    assert.ok(!("fleet:locks" in config));
  });

  it("restore an update's config as the history records it, leaving keys at Pulumi.yaml's default out of the file", () => {
    const dir = tempProject();
    const file = new StackFile(dir, "local");
    const recorded = { ...file.fleetConfig(), "fleet:images": {}, "fleet:baseImage": "", "fleet:builder": "fleet", "fleet:healthTimeoutSeconds": "120", "fleet:services": { names: ["CentralErrorBus"] } };
    assert.deepEqual(file.restoreFleetConfig(recorded, projectDefaults(dir)), ["fleet:healthTimeoutSeconds", "fleet:services"]);
    file.save();
    const config = YAML.parse(fs.readFileSync(path.join(dir, "Pulumi.local.yaml"), "utf8")).config;
    for (const k of ["fleet:images", "fleet:baseImage", "fleet:builder", "fleet:healthTimeoutSeconds"]) assert.ok(!(k in config), `${k} is at its default`);
    assert.deepEqual(config["fleet:services"], { names: ["CentralErrorBus"] });
  });

  it("reject an unknown stack, listing the known ones", () => rejects(() => new StackFile(tempProject(), "nope"), /^unknown stack "nope": no Pulumi\.nope\.yaml in .*; known stacks: .*local/));
});
