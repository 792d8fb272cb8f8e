import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { projectProvider } from "../../components/dynamic";
import { startedProvider } from "../../components/containerStarted";
import { REPO } from "../support/project";

/** What Pulumi keeps in the state for a dynamic resource's provider (dynamic.Resource does the same). */
async function serialized(provider: pulumi.dynamic.ResourceProvider): Promise<string> {
  return (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: false, isFactoryFunction: true })).text;
}

describe("dynamic providers in the state", () => {
  const cwd = process.cwd();
  before(() => process.chdir(REPO));
  after(() => process.chdir(cwd));

  it("keep a few lines that name the project file, not the provider's code", async () => {
    const kept = await serialized(projectProvider("components/containerStarted", "startedProvider"));
    assert.match(kept, /components\/containerStarted/);
    assert.doesNotMatch(kept, /--pids-limit/, "the real provider's code is not copied");
    const copied = await serialized(startedProvider);
    assert.ok(kept.length < 2500, `${kept.length} characters`);
    assert.ok(kept.length < copied.length, `${kept.length} characters against the copied provider's ${copied.length}`);
  });

  it("answer as the real provider of the project directory they run in", async () => {
    const stub = projectProvider("components/containerStarted", "startedProvider");
    const olds = { containerId: "a", limit: 512, dockerHost: "unix:///x" };
    for (const news of [olds, { ...olds, limit: 1024 }]) assert.deepEqual(await stub.diff!("l", olds, news), await startedProvider.diff!("l", olds, news));
  });

  it("name the file and the provider a state asks for that the checkout does not have", async () => {
    await assert.rejects(projectProvider("components/containerStarted", "goneProvider").diff!("l", {}, {}), /^Error: fleet: \S+components\/containerStarted\.ts has no provider `goneProvider`; a state written by another version of fleet needs that version's checkout$/);
    await assert.rejects(projectProvider("components/gone", "x").create({}), /^Error: fleet: the dynamic provider runs in \S+, which is not the fleet project \(Cannot find module/);
  });
});
