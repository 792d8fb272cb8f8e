import { strict as assert } from "assert";
import { canaryProvider } from "../../components/healthCanary";

const digest = (c: string) => `127.0.0.1:5000/fleet/x@sha256:${c.repeat(64)}`;
const inputs = (image: string, runFlags = ["--user", "10001:10001"]) => ({
  image,
  service: "X",
  dockerHost: "unix:///var/run/docker.sock",
  namePrefix: "fleet-s-canary-x",
  network: "fleet-s",
  labels: { "dev.fleet.stack": "s" },
  runFlags,
  timeoutSeconds: 60,
});

/** canaryProvider.update with its `create` (the real run) replaced by a recorder. */
async function update(olds: object, news: ReturnType<typeof inputs>) {
  const ran: string[] = [];
  const create = async (i: { image: string }) => {
    ran.push(i.image);
    return { id: "c", outs: i };
  };
  const r = await canaryProvider.update!.call({ ...canaryProvider, create }, "c", olds, news);
  return { ran, proven: (r.outs as { proven: string[] }).proven };
}

describe("health canary: which changes run it", () => {
  it("replaces itself when a setting changes, and updates (no replace) when only the image does", async () => {
    const a = inputs(digest("a"));
    assert.deepEqual(await canaryProvider.diff!("c", a, inputs(digest("a"), ["--user", "0:0"])), { changes: true, replaces: ["runFlags"], deleteBeforeReplace: false });
    assert.deepEqual(await canaryProvider.diff!("c", a, inputs(digest("b"))), { changes: true, replaces: [], deleteBeforeReplace: false });
    assert.deepEqual(await canaryProvider.diff!("c", a, inputs(digest("a"))), { changes: false, replaces: [], deleteBeforeReplace: false });
  });

  it("runs a new image and remembers it; does not run again an image it proved with these settings", async () => {
    const b = await update({ ...inputs(digest("a")), proven: [digest("a")] }, inputs(digest("b")));
    assert.deepEqual(b, { ran: [digest("b")], proven: [digest("a"), digest("b")] });
    const back = await update({ ...inputs(digest("b")), proven: b.proven }, inputs(digest("a")));
    assert.deepEqual(back, { ran: [], proven: [digest("b"), digest("a")] }, "a rollback to a proved image runs no canary");
  });

  it("counts the image of a state written before it remembered images as proved", async () => {
    assert.deepEqual(await update(inputs(digest("a")), inputs(digest("b"))), { ran: [digest("b")], proven: [digest("a"), digest("b")] });
  });

  it("forgets the oldest images beyond fifty", async () => {
    const many = Array.from({ length: 50 }, (_, i) => `127.0.0.1:5000/fleet/x:${i}`);
    const r = await update({ ...inputs(many[49]), proven: many }, inputs(digest("f")));
    assert.equal(r.proven.length, 50);
    assert.equal(r.proven[0], many[1]);
    assert.equal(r.proven[49], digest("f"));
  });
});
