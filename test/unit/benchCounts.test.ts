import { strict as assert } from "assert";
import { bakeTargetsBuilt, composeContainersReplaced, fleetContainersReplaced } from "../../bench/counts";
import { scaledServices } from "../../bench/scale";
import { buildCatalog, SERVICES } from "../../catalog";

describe("bench counts", () => {
  it("count the containers a pulumi up created or replaced, once each", () => {
    const urn = (n: string) => `urn:pulumi:bench::fleet::fleet:index:Fleet$fleet:containers:ServiceContainer$docker:index/container:Container::${n}`;
    const steps = [
      { op: "create-replacement", urn: urn("a"), type: "docker:index/container:Container" },
      { op: "replace", urn: urn("a"), type: "docker:index/container:Container" },
      { op: "delete-replaced", urn: urn("a"), type: "docker:index/container:Container" },
      { op: "create", urn: urn("b"), type: "docker:index/container:Container" },
      { op: "update", urn: urn("c"), type: "docker:index/container:Container" },
      { op: "create", urn: "urn:x::y::docker-build:index:Image::i", type: "docker-build:index:Image" },
    ];
    assert.equal(fleetContainersReplaced(steps), 2);
  });

  it("count bake targets that ran a Dockerfile step, not those served from the cache", () => {
    const status = (vertexes: object[]) => JSON.stringify({ vertexes });
    const out = [
      status([{ name: "[base-cpu-pydeps internal] load build context", completed: "t" }]),
      status([{ name: "[base-cpu-pydeps 2/4] RUN apt-get update", cached: true, completed: "t" }]),
      status([{ name: "[central-error-bus builder 3/5] COPY app/ /opt/app/src/app/", completed: "t" }]),
      status([{ name: "[service-registry builder 4/5] RUN python -c ...", completed: undefined }]),
      status([{ name: "[service-registry] exporting to image", completed: "t" }]),
      "not json",
    ].join("\n");
    assert.deepEqual(bakeTargetsBuilt(out), ["central-error-bus"]);
  });

  it("count the containers compose created or recreated, not those left running", () => {
    const out = [
      " Container fleet-bench-peer-central-error-bus-1  Recreate",
      " Container fleet-bench-peer-central-error-bus-1  Recreated",
      " Container fleet-bench-peer-service-registry-1  Running",
      " Container fleet-bench-peer-memory-fusion-hub-1  Created",
      " Container fleet-bench-peer-central-error-bus-1  Healthy",
    ].join("\n");
    assert.deepEqual(composeContainersReplaced(out), ["fleet-bench-peer-central-error-bus-1", "fleet-bench-peer-memory-fusion-hub-1"]);
  });

  it("multiply the catalog into a valid one on the same families", () => {
    const scaled = scaledServices(SERVICES, 50);
    const catalog = buildCatalog(undefined, scaled);
    assert.equal(catalog.services.length, 50);
    assert.deepEqual(new Set(catalog.services.map((s) => s.family)), new Set(SERVICES.map((s) => s.family)));
    assert.deepEqual(scaled.slice(0, SERVICES.length), SERVICES);
  });
});
