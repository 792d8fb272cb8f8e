import { strict as assert } from "assert";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { providerModule, ProviderRef } from "../../components/dynamic";
import { startedProvider } from "../../components/containerStarted";
import { REPO } from "../support/project";

/** What `pulumi.dynamic.Resource` would keep in the state for a provider object: its serialized closure. */
async function serialized(provider: pulumi.dynamic.ResourceProvider): Promise<string> {
  return (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: false, isFactoryFunction: true })).text;
}

/** The provider a `__provider` text gives, loaded as the Node.js dynamic provider loads it (require-from-string, then handler()). */
function loaded(text: string): pulumi.dynamic.ResourceProvider {
  const sdk = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
  const requireFromString = require(require.resolve("require-from-string", { paths: [sdk] })) as (code: string) => { handler: () => pulumi.dynamic.ResourceProvider };
  return requireFromString(text).handler();
}

const started: ProviderRef = { file: "components/containerStarted", exportName: "startedProvider" };

describe("dynamic providers in the state", () => {
  const cwd = process.cwd();
  before(() => process.chdir(REPO));
  after(() => process.chdir(cwd));

  it("keep one short line that names the project file, not the provider's code", async () => {
    const kept = providerModule(started);
    assert.match(kept, /"components\/containerStarted","startedProvider"/);
    assert.doesNotMatch(kept, /--pids-limit/, "the real provider's code is not copied");
    assert.ok(kept.length < 260, `${kept.length} characters`);
    const copied = await serialized(startedProvider);
    assert.ok(kept.length * 5 < copied.length, `${kept.length} characters against the serialized provider's ${copied.length}`);
  });

  it("load, as the Node.js dynamic provider does, into the provider of the project directory they run in", () => {
    assert.equal(loaded(providerModule(started)), startedProvider);
  });

  it("name the file and the provider a state asks for that the checkout does not have", () => {
    assert.throws(() => loaded(providerModule({ ...started, exportName: "goneProvider" })), /^Error: fleet: \S+components\/containerStarted\.ts has no provider `goneProvider`; a state written by another version of fleet needs that version's checkout$/);
    assert.throws(() => loaded(providerModule({ file: "components/gone", exportName: "x" })), /^Error: fleet: \S+components\/gone\.ts does not load \(Cannot find module/);
  });

  it("say so when the provider process runs outside the fleet project", () => {
    process.chdir(os.tmpdir());
    try {
      assert.throws(() => loaded(providerModule(started)), /^Error: fleet: run pulumi in the fleet project, not in \S+ \(Cannot find module/);
    } finally {
      process.chdir(REPO);
    }
  });
});
