import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { keepDeclarationSitesOnly } from "../../components/declarationSites";

type Capture = { stackTrace: (skip: number) => { uri: string; line: number }[] };

/** A stand-in for a resource constructor: the SDK's capture called one frame below whoever declared it. */
function declare(): { uri: string; line: number }[] {
  return (pulumi.Resource as unknown as Capture).stackTrace(1);
}

describe("keepDeclarationSitesOnly", () => {
  const capture = pulumi.Resource as unknown as Capture;
  const full = capture.stackTrace;
  after(() => (capture.stackTrace = full));

  it("keeps the frame that declared a resource, and none under it", () => {
    const before = declare();
    assert.ok(before.length > 3, `the SDK records ${before.length} frames`);
    keepDeclarationSitesOnly();
    keepDeclarationSitesOnly();
    const after = declare();
    assert.equal(after.length, 1);
    assert.deepEqual(after[0], before[0], "the same declaration site as the SDK's own first frame");
    assert.match(after[0].uri, /declarationSites\.test\.ts$/);
  });
});
