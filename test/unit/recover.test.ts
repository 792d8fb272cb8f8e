import { strict as assert } from "assert";
import { leftoversOf } from "../../cli/recover";

const CONTAINER = "docker:index/container:Container";
const listed = (ID: string, Names: string, role?: string) => ({ ID, Names, Labels: `dev.fleet.stack=s,dev.fleet.service=X${role ? `,dev.fleet.role=${role}` : ""}` });

describe("fleet recover: what an interrupted update left over", () => {
  it("finds nothing when every labelled container is in the state", () => {
    const found = leftoversOf({ resources: [{ type: CONTAINER, id: "aaa111" }, { type: "docker:index/network:Network", id: "net" }] }, [listed("aaa111", "fleet-s-x")]);
    assert.deepEqual(found, { pendingOperations: [], canaries: [], orphans: [] });
  });

  it("names a container the state does not know as an orphan, and every canary as a leftover", () => {
    const found = leftoversOf(
      { resources: [{ type: CONTAINER, id: "aaa111" }], pending_operations: [{ type: "creating", resource: { urn: "urn:pulumi:s::fleet::x$docker:index/container:Container::c" } }] },
      [listed("aaa111", "fleet-s-x"), listed("bbb222", "fleet-s-y"), listed("ccc333", "fleet-s-canary-x-1a2b", "canary")],
    );
    assert.deepEqual(found.orphans, [{ id: "bbb222", name: "fleet-s-y" }]);
    assert.deepEqual(found.canaries, [{ id: "ccc333", name: "fleet-s-canary-x-1a2b" }]);
    assert.deepEqual(found.pendingOperations, [{ type: "creating", urn: "urn:pulumi:s::fleet::x$docker:index/container:Container::c" }]);
  });

  it("treats every labelled container as an orphan when the state has none (the first update died)", () => {
    assert.equal(leftoversOf({}, [listed("aaa111", "fleet-s-x")]).orphans.length, 1);
  });
});
