import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { strict as assert } from "assert";
import {
  capabilitiesDropped,
  fleetPolicies,
  gpuOnlyWhereNeeded,
  healthchecked,
  imagesPinned,
  memoryLimited,
  noNewPrivileges,
  notPrivileged,
  pidsLimited,
  profileEnvPresent,
  publishOnChosenInterface,
  readOnlyRoot,
  runsAsFleetUser,
  stackFacts,
} from "../../policy/policies";
import { TYPES } from "../../contract";

const { container: CONTAINER, remoteImage: REMOTE_IMAGE, builtImage: BUILT_IMAGE, containerStarted: PIDS_LIMIT } = TYPES;

const DIGEST = `sha256:${"0a".repeat(32)}`;
const REF = `127.0.0.1:5000/fleet/central-error-bus@${DIGEST}`;

/** A container as components/serviceContainer.ts registers it: every rule met. */
function container(service = "CentralErrorBus", over: Record<string, unknown> = {}): Record<string, any> {
  return {
    name: `fleet-${service.toLowerCase()}`,
    image: DIGEST,
    user: "10001:10001",
    envs: ["GPU_VISIBLE_DEVICES=", "TORCH_CUDA_ALLOC_CONF=max_split_size_mb:32", "OMP_NUM_THREADS=1", "UVICORN_WORKERS=1", "MODEL_EVICT_THRESHOLD_PCT=70", "HEALTH_PORT=8150"],
    ports: [
      { internal: 7150, external: 7150, ip: "127.0.0.5", protocol: "tcp" },
      { internal: 8150, external: 8150, ip: "127.0.0.5", protocol: "tcp" },
    ],
    healthcheck: { tests: ["CMD", "python3", "-c", "probe"], interval: "5s" },
    capabilities: { drops: ["ALL"] },
    securityOpts: ["no-new-privileges:true"],
    readOnly: true,
    memory: 256,
    memorySwap: 256,
    labels: [
      { label: "dev.fleet.service", value: service },
      { label: "dev.fleet.image", value: REF },
    ],
    ...over,
  };
}

function args(type: string, props: Record<string, any>): ResourceValidationArgs {
  return { type, props, urn: `urn:pulumi:test::fleet::${type}::x`, name: "x", opts: {} as any, stackTags: new Map(), isType: () => false, asType: () => undefined, getConfig: () => ({}) as any, notApplicable: () => { throw new Error("n/a"); } };
}

/** The violations a resource policy reports for one resource. */
async function violations(policy: ResourceValidationPolicy, type: string, props: Record<string, any>): Promise<string[]> {
  const found: string[] = [];
  const report: ReportViolation = (message) => void found.push(message);
  const validations = [policy.validateResource ?? []].flat();
  for (const v of validations) await v(args(type, props), report);
  return found;
}

/** The violations a stack policy reports for a stack of resources. */
async function stackViolations(policy: StackValidationPolicy, resources: { type: string; props: Record<string, any>; urn: string }[]): Promise<string[]> {
  const found: string[] = [];
  const stack = { resources: resources.map((r) => ({ propertyDependencies: {}, dependencies: [], ...r, name: r.urn })) } as unknown as StackValidationArgs;
  await policy.validateStack!(stack, (message) => void found.push(message));
  return found;
}

describe("policy pack", () => {
  it("every policy is mandatory and the pack has twelve", () => {
    const all = fleetPolicies({ publishAllInterfaces: false });
    assert.equal(all.length, 12);
    for (const p of all) assert.equal(p.enforcementLevel, "mandatory", p.name);
    assert.equal(new Set(all.map((p) => p.name)).size, all.length, "names are unique");
  });

  describe("images-pinned-by-digest", () => {
    it("passes a container on an image ID, a digest pull and a build FROM digests", async () => {
      assert.deepEqual(await violations(imagesPinned, CONTAINER, container()), []);
      assert.deepEqual(await violations(imagesPinned, REMOTE_IMAGE, { name: REF }), []);
      assert.deepEqual(await violations(imagesPinned, BUILT_IMAGE, { buildArgs: { FAMILY: REF, SERVICE_NAME: "x" } }), []);
    });
    it("rejects a tag, a pull by tag and a build FROM a tag", async () => {
      assert.match((await violations(imagesPinned, CONTAINER, container("CentralErrorBus", { image: "nginx:latest" })))[0], /CentralErrorBus: image must be pinned .*got "nginx:latest"/);
      assert.match((await violations(imagesPinned, REMOTE_IMAGE, { name: "127.0.0.1:5000/fleet/x:latest" }))[0], /pulled image must be pinned as repo@sha256:<digest>; got "127\.0\.0\.1:5000\/fleet\/x:latest"/);
      assert.match((await violations(imagesPinned, BUILT_IMAGE, { buildArgs: { BASE: "debian:bookworm" } }))[0], /build arg BASE .* got "debian:bookworm"/);
      const labelled = container("CentralErrorBus", { labels: [{ label: "dev.fleet.image", value: "x:1" }] });
      assert.match((await violations(imagesPinned, CONTAINER, labelled))[0], /label dev\.fleet\.image must be repo@sha256/);
    });
  });

  describe("runs-as-10001", () => {
    it("passes 10001:10001", async () => assert.deepEqual(await violations(runsAsFleetUser, CONTAINER, container()), []));
    it("rejects root and no user", async () => {
      assert.match((await violations(runsAsFleetUser, CONTAINER, container("CentralErrorBus", { user: "0:0" })))[0], /user must be 10001:10001; got "0:0"/);
      assert.match((await violations(runsAsFleetUser, CONTAINER, container("CentralErrorBus", { user: undefined })))[0], /got none/);
    });
    it("leaves other resource types alone", async () => assert.deepEqual(await violations(runsAsFleetUser, REMOTE_IMAGE, { name: "x" }), []));
  });

  describe("read-only-root", () => {
    it("passes readOnly true", async () => assert.deepEqual(await violations(readOnlyRoot, CONTAINER, container()), []));
    it("rejects a writable root", async () => assert.match((await violations(readOnlyRoot, CONTAINER, container("CentralErrorBus", { readOnly: false })))[0], /readOnly must be true .* got false/));
  });

  describe("capabilities-dropped", () => {
    it("passes drops ALL", async () => assert.deepEqual(await violations(capabilitiesDropped, CONTAINER, container()), []));
    it("rejects keeping capabilities and adding one", async () => {
      assert.match((await violations(capabilitiesDropped, CONTAINER, container("CentralErrorBus", { capabilities: { drops: ["NET_RAW"] } })))[0], /drops must include ALL; got \[NET_RAW\]/);
      assert.match((await violations(capabilitiesDropped, CONTAINER, container("CentralErrorBus", { capabilities: { drops: ["ALL"], adds: ["SYS_ADMIN"] } })))[0], /adds must be empty; got \[SYS_ADMIN\]/);
    });
  });

  describe("not-privileged", () => {
    it("passes an unprivileged container", async () => assert.deepEqual(await violations(notPrivileged, CONTAINER, container()), []));
    it("rejects privileged and the host's namespaces", async () => {
      assert.match((await violations(notPrivileged, CONTAINER, container("CentralErrorBus", { privileged: true })))[0], /privileged must be false/);
      assert.match((await violations(notPrivileged, CONTAINER, container("CentralErrorBus", { networkMode: "host" })))[0], /networkMode must not be "host"/);
    });
  });

  describe("no-new-privileges", () => {
    it("passes no-new-privileges:true", async () => assert.deepEqual(await violations(noNewPrivileges, CONTAINER, container()), []));
    it("rejects its absence", async () => assert.match((await violations(noNewPrivileges, CONTAINER, container("CentralErrorBus", { securityOpts: [] })))[0], /securityOpts must include "no-new-privileges:true"; got \[\]/));
  });

  describe("memory-limit", () => {
    it("passes a limit with swap equal to it", async () => assert.deepEqual(await violations(memoryLimited, CONTAINER, container()), []));
    it("rejects no limit and swap beyond it", async () => {
      assert.match((await violations(memoryLimited, CONTAINER, container("CentralErrorBus", { memory: undefined })))[0], /memory must be a limit in MiB above 0; got undefined/);
      assert.match((await violations(memoryLimited, CONTAINER, container("CentralErrorBus", { memorySwap: 1024 })))[0], /memorySwap must equal memory \(256\)/);
    });
  });

  describe("pids-limit", () => {
    const stack = (limit: unknown, on = "urn:c") => {
      const c = { type: CONTAINER, props: container(), urn: "urn:c" };
      const other = { type: CONTAINER, props: container("UnifiedObservabilityCenter"), urn: "urn:other" };
      const pids = { type: PIDS_LIMIT, props: { limit }, urn: "urn:p", propertyDependencies: { containerId: [{ urn: on, type: CONTAINER }] } };
      return [c, other, pids];
    };
    it("passes a container whose ID a ContainerStarted with a positive limit takes", async () => {
      const found = await stackViolations(pidsLimited, stack(256));
      assert.deepEqual(found, ["UnifiedObservabilityCenter: container has no PIDs limit (no pulumi-nodejs:dynamic/fleet:ContainerStarted with limit > 0 on its ID)"], "only the container without one is reported");
    });
    it("rejects a container without one, and a zero limit", async () => {
      assert.equal((await stackViolations(pidsLimited, stack(256, "urn:elsewhere"))).length, 2);
      assert.match((await stackViolations(pidsLimited, stack(0)))[0], /CentralErrorBus: container has no PIDs limit/);
    });
  });

  describe("healthcheck", () => {
    it("passes a probe", async () => assert.deepEqual(await violations(healthchecked, CONTAINER, container()), []));
    it("rejects none and NONE", async () => {
      assert.match((await violations(healthchecked, CONTAINER, container("CentralErrorBus", { healthcheck: undefined })))[0], /healthcheck\.tests must run a probe; got none/);
      assert.match((await violations(healthchecked, CONTAINER, container("CentralErrorBus", { healthcheck: { tests: ["NONE"] } })))[0], /got \[NONE\]/);
    });
  });

  describe("gpu-only-where-needed", () => {
    const gpu = { deviceRequests: [{ driver: "nvidia", deviceIds: ["0"], capabilities: ["gpu"] }] };
    it("passes a GPU on a torch service and none on a web service", async () => {
      assert.deepEqual(await violations(gpuOnlyWhereNeeded, CONTAINER, container("RealTimeAudioPipeline", gpu)), []);
      assert.deepEqual(await violations(gpuOnlyWhereNeeded, CONTAINER, container("ModelOpsCoordinator", gpu)), [], "family-llm-cu121 inherits its parent's GPU need");
      assert.deepEqual(await violations(gpuOnlyWhereNeeded, CONTAINER, container("CentralErrorBus")), []);
    });
    it("rejects a GPU on a web service, an unknown service and an unlabelled container", async () => {
      assert.match((await violations(gpuOnlyWhereNeeded, CONTAINER, container("CentralErrorBus", gpu)))[0], /CentralErrorBus: requests a GPU but its family needs none/);
      assert.match((await violations(gpuOnlyWhereNeeded, CONTAINER, container("Miner", gpu)))[0], /Miner: requests a GPU but is not a service of the catalog/);
      assert.match((await violations(gpuOnlyWhereNeeded, CONTAINER, container("X", { ...gpu, labels: [] })))[0], /has no dev\.fleet\.service label/);
      assert.equal((await violations(gpuOnlyWhereNeeded, CONTAINER, container("CentralErrorBus", { gpus: "all" }))).length, 1, "gpus: all counts too");
    });
  });

  describe("no-publish-on-all-interfaces", () => {
    const everywhere = { ports: [{ internal: 7150, external: 7150, ip: "0.0.0.0" }, { internal: 8150, external: 8150 }] };
    it("passes a chosen interface, and all interfaces with the opt-in", async () => {
      assert.deepEqual(await violations(publishOnChosenInterface({ publishAllInterfaces: false }), CONTAINER, container()), []);
      assert.deepEqual(await violations(publishOnChosenInterface({ publishAllInterfaces: true }), CONTAINER, container("CentralErrorBus", everywhere)), []);
    });
    it("rejects 0.0.0.0 and a port with no ip without the opt-in, and publishAllPorts always", async () => {
      const found = await violations(publishOnChosenInterface({ publishAllInterfaces: false }), CONTAINER, container("CentralErrorBus", everywhere));
      assert.equal(found.length, 2);
      assert.match(found[0], /port 7150 is published on all interfaces \(ip "0\.0\.0\.0"\); bind it to fleet:bindAddress, or set fleet:publishAllInterfaces: true/);
      assert.match((await violations(publishOnChosenInterface({ publishAllInterfaces: true }), CONTAINER, container("CentralErrorBus", { publishAllPorts: true })))[0], /publishAllPorts must be false/);
    });
    it("reads the opt-in from the stack's config", () => {
      assert.deepEqual(stackFacts({ "fleet:publishAllInterfaces": "true" }), { publishAllInterfaces: true });
      assert.deepEqual(stackFacts({ "fleet:publishAllInterfaces": true }), { publishAllInterfaces: true });
      assert.deepEqual(stackFacts({}), { publishAllInterfaces: false });
    });
  });

  describe("profile-env-present", () => {
    it("passes a container with every profile key", async () => assert.deepEqual(await violations(profileEnvPresent, CONTAINER, container()), []));
    it("rejects one without OMP_NUM_THREADS and UVICORN_WORKERS", async () => {
      const envs = container().envs.filter((e: string) => !/^(OMP_NUM_THREADS|UVICORN_WORKERS)=/.test(e));
      assert.match((await violations(profileEnvPresent, CONTAINER, container("CentralErrorBus", { envs })))[0], /CentralErrorBus: environment lacks the profile's OMP_NUM_THREADS, UVICORN_WORKERS/);
    });
    it("leaves the stack's ports alone, and no other container", async () => {
      const bare = { envs: [], labels: [{ label: "dev.fleet.role", value: "ports" }] };
      assert.deepEqual(await violations(profileEnvPresent, CONTAINER, container("CentralErrorBus", bare)), []);
      assert.equal((await violations(profileEnvPresent, CONTAINER, container("CentralErrorBus", { envs: [], labels: [{ label: "dev.fleet.role", value: "canary" }] }))).length, 1);
    });
  });
});
