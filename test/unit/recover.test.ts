import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { leftoversOf, removeCutWrites } from "../../cli/recover";
import { REPO, tempDir } from "../support/project";

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

describe("recover after a state write cut short", () => {
  /** A file backend folder holding stack `s` of project fleet, as an update killed mid-write leaves it. */
  const backendWith = (files: Record<string, string>) => {
    const dir = tempDir("fleet-test-backend-");
    const stacks = path.join(dir, ".pulumi", "stacks", "fleet");
    fs.mkdirSync(stacks, { recursive: true });
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(stacks, name), text);
    return { dir, left: () => fs.readdirSync(stacks).sort() };
  };
  const STATE = JSON.stringify({ version: 3, checkpoint: {} });
  const ATTRS = JSON.stringify({ md5: "q/Vm9ByuaerjZFtthT4A8g==" });

  it("removes the sidecar the kill left empty and the temporary file, and keeps the state and its backup", () => {
    const b = backendWith({ "s.json": STATE, "s.json.attrs": "", "s.json.18ee86b780ab2e15.tmp": "{\"ver", "s.json.bak": STATE, "s.json.bak.attrs": ATTRS, "t.json.attrs": "" });
    assert.deepEqual(removeCutWrites(REPO, "s", b.dir).map((f) => path.basename(f)).sort(), ["s.json.18ee86b780ab2e15.tmp", "s.json.attrs"]);
    assert.deepEqual(b.left(), ["s.json", "s.json.bak", "s.json.bak.attrs", "t.json.attrs"], "another stack's files are not touched");
  });

  it("leaves a whole write alone, and everything when the state itself does not parse", () => {
    const whole = backendWith({ "s.json": STATE, "s.json.attrs": ATTRS });
    assert.deepEqual(removeCutWrites(REPO, "s", whole.dir), []);
    const broken = backendWith({ "s.json": "{\"vers", "s.json.attrs": "" });
    assert.deepEqual(removeCutWrites(REPO, "s", broken.dir), []);
    assert.deepEqual(broken.left(), ["s.json", "s.json.attrs"]);
  });
});
