import { strict as assert } from "assert";
import fc from "fast-check";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { sbomProvider } from "../../components/imageSbom";
import { reportProvider } from "../../components/inventoryReport";
import { startedProvider } from "../../components/containerStarted";
import { prevTagProvider } from "../../components/prevTag";
import { gateProvider } from "../../components/scanGate";
import { standInSteps } from "../../components/steps";
import { tempDir } from "../support/project";

const image = (c: string) => `127.0.0.1:5000/fleet/central-error-bus@sha256:${c.repeat(64)}`;
/** An engine no test can reach: should a stand-in below be missed, the real client fails instead of acting. */
const HOST = "unix:///nonexistent/fleet-unit-test.sock";

/** One step a provider took, as the stand-in steps recorded it. */
interface Step {
  readonly step: string;
  readonly request: unknown;
}

let tmp: string;
/** Where the stand-in `docker` on PATH records its calls. */
let bin: string;
/** The steps taken since the last call to stepsRun. */
let taken: Step[] = [];
/** How the next step ends: it answers `reply`, or fails with the message `fail`. */
let outcome: { reply: object } | { fail: string } = { reply: {} };

/** The next step answers `reply`, or fails with the message `fail`. */
function answer(next: { reply: object } | { fail: string }): void {
  outcome = next;
}

/** The steps taken since the last call, in order. */
function stepsRun(): Step[] {
  const out = taken;
  taken = [];
  return out;
}

/** A stand-in for one of the project's steps (components/steps.ts): records the request, answers as told. */
const standIn = (step: string) => async (request: unknown) => {
  taken.push({ step, request: JSON.parse(JSON.stringify(request)) });
  if ("fail" in outcome) throw new Error(outcome.fail);
  return outcome.reply as never;
};

describe("dynamic providers", () => {
  before(() => {
    tmp = tempDir("fleet-providers-");
    standInSteps({ sbom: standIn("sbom"), scan: standIn("scan"), report: standIn("report"), tag: standIn("tag") as never });
    bin = path.join(tmp, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(
      path.join(bin, "docker"),
      // It reads its stdin before exiting: a child gone before exec ends its stdin would be an EPIPE.
      [
        "#!/bin/sh",
        "cat >/dev/null",
        `printf '%s|%s\\n' "$DOCKER_HOST" "$*" >> '${bin}/calls'`,
        'case "$1" in',
        `update) if [ -f '${bin}/fail' ]; then echo "Error response from daemon: No such container: $4" >&2; exit 1; fi; echo "$4" ;;`,
        // Docker's answer to an exec into a container that does not run, else the probe's.
        `exec) if [ -f '${bin}/state' ] && [ "$(cat '${bin}/state')" != running ]; then echo "Error response from daemon: container $2 is not running" >&2; exit 1; fi; if [ -f '${bin}/unhealthy' ]; then echo "health: connection refused"; exit 1; fi ;;`,
        `start) if [ -f '${bin}/nostart' ] && [ "$2" != old ]; then echo "Error response from daemon: port is already allocated" >&2; exit 1; fi; echo "$2" ;;`,
        `stop) if [ -f '${bin}/gone' ]; then echo "Error response from daemon: No such container: $4" >&2; exit 1; fi; echo "$4" ;;`,
        `inspect) if [ "$3" = "{{.Name}}" ]; then echo "/fleet-x-central-error-bus-1234abcd"; else cat '${bin}/state' 2>/dev/null || echo running; fi ;;`,
        'rename) ;;',
        'logs) echo "Traceback: the service stopped" ;;',
        "esac",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
  });

  after(() => {
    standInSteps(undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  beforeEach(() => {
    taken = [];
    outcome = { reply: {} };
    for (const f of ["calls", "fail", "unhealthy", "state", "nostart", "gone"]) fs.rmSync(path.join(bin, f), { force: true });
  });

  const noChange = { changes: false, replaces: [], deleteBeforeReplace: false };
  const replace = (...keys: string[]) => ({ changes: true, replaces: keys, deleteBeforeReplace: false });

  describe("PrevTag: the :prev tag follows the image a service ran before", () => {
    const state = (img: string, extra: object = {}) => ({ image: img, tag: "prev", dockerHost: HOST, ...extra });

    it("moves on a new running digest or tag name by an update, never a replace (a replace would forget the digest to tag)", async () => {
      assert.deepEqual(await prevTagProvider.diff!("p", state(image("a")), state(image("b"))), { changes: true, replaces: [], deleteBeforeReplace: false });
      assert.deepEqual(await prevTagProvider.diff!("p", state(image("a")), state(image("a"), { tag: "before" })), { changes: true, replaces: [], deleteBeforeReplace: false });
    });

    it("does not move when only the engine changed", async () => {
      assert.deepEqual(await prevTagProvider.diff!("p", state(image("a")), state(image("a"), { dockerHost: "ssh://fleet@pc2" })), noChange);
    });

    it("tags nothing for a service's first image", async () => {
      const r = await prevTagProvider.create!(state(image("a")));
      assert.deepEqual(r, { id: "prev-aaaaaaaaaaaa", outs: { ...state(image("a")), previous: "" } });
      assert.deepEqual(stepsRun(), []);
    });

    it("puts the tag on the digest that was running, through the registry step, when the image changes", async () => {
      answer({ reply: {} });
      const r = await prevTagProvider.update!("p", state(image("a"), { previous: "" }), state(image("b")));
      assert.deepEqual(stepsRun(), [{ step: "tag", request: { image: image("a"), tag: "prev", dockerHost: HOST } }]);
      assert.deepEqual(r.outs, { ...state(image("b")), previous: image("a") });
    });

    it("keeps where the tag points, tagging nothing, when the image stays (a state from before `previous` reads \"\")", async () => {
      const kept = await prevTagProvider.update!("p", state(image("b"), { previous: image("a") }), state(image("b"), { dockerHost: "ssh://fleet@pc2" }));
      assert.equal((kept.outs as { previous: string }).previous, image("a"));
      const old = await prevTagProvider.update!("p", state(image("b")), state(image("b")));
      assert.equal((old.outs as { previous: string }).previous, "");
      assert.deepEqual(stepsRun(), []);
    });

    it("fails the update with the registry's message when the tag cannot be moved", async () => {
      answer({ fail: "registry: PUT http://127.0.0.1:5000/v2/fleet/central-error-bus/manifests/prev failed: connect ECONNREFUSED" });
      await assert.rejects(prevTagProvider.update!("p", state(image("a")), state(image("b"))), /^Error: registry: PUT \S+\/manifests\/prev failed: connect ECONNREFUSED$/);
    });
  });

  describe("ScanGate: a digest is scanned once, again only for a new digest or stricter settings", () => {
    const state = (extra: object = {}) => ({ service: "CentralErrorBus", image: image("a"), severity: "HIGH", failOnUnfixed: false, dbDir: "", allowlist: [], dockerHost: HOST, ...extra });

    it("scans again, by replacing itself, for a new digest, another severity or failOnUnfixed", async () => {
      assert.deepEqual(await gateProvider.diff!("g", state(), state({ image: image("b") })), replace("image"));
      assert.deepEqual(await gateProvider.diff!("g", state(), state({ severity: "MEDIUM" })), replace("severity"));
      assert.deepEqual(await gateProvider.diff!("g", state(), state({ failOnUnfixed: true })), replace("failOnUnfixed"));
      assert.deepEqual(await gateProvider.diff!("g", state(), state({ image: image("b"), severity: "CRITICAL" })), replace("image", "severity"));
    });

    it("does not scan again when nothing changed, nor for a new allowlist, engine or service name", async () => {
      assert.deepEqual(await gateProvider.diff!("g", state(), state()), noChange);
      const allowlist = [{ id: "CVE-2024-0001", package: "openssl", until: "2099-01-01", reason: "not reachable" }];
      assert.deepEqual(await gateProvider.diff!("g", state(), state({ allowlist, dockerHost: "ssh://fleet@pc2", service: "Renamed" })), noChange);
    });

    it("hands the scan step the whole gate and keeps what it reports", async () => {
      answer({ reply: { findings: 3, allowed: ["CVE-2024-0001 in openssl (until 2099-01-01)"] } });
      const r = await gateProvider.create!(state());
      assert.deepEqual(stepsRun(), [{ step: "scan", request: state() }]);
      assert.match(r.id, /^scan-aaaaaaaaaaaa-\d+$/);
      assert.deepEqual(r.outs, { ...state(), findings: 3, allowed: ["CVE-2024-0001 in openssl (until 2099-01-01)"] });
    });

    it("fails with the scanner's lines when the gate stops the image", async () => {
      answer({ fail: "fleet: CentralErrorBus: 1 finding at HIGH or above:\n  CVE-2024-9999 HIGH in openssl 3.0.1 (fixed in 3.0.2)" });
      await assert.rejects(gateProvider.create!(state()), (e: Error) => e.message === "fleet: CentralErrorBus: 1 finding at HIGH or above:\n  CVE-2024-9999 HIGH in openssl 3.0.1 (fixed in 3.0.2)");
    });
  });

  describe("ImageSbom: one SBOM per digest", () => {
    const state = (img: string, extra: object = {}) => ({ image: img, dockerHost: HOST, ...extra });

    it("is made again, by replacing itself, for a new digest, and not for a new engine", async () => {
      assert.deepEqual(await sbomProvider.diff!("s", state(image("a")), state(image("b"))), replace("image"));
      assert.deepEqual(await sbomProvider.diff!("s", state(image("a")), state(image("a"), { dockerHost: "ssh://fleet@pc2" })), noChange);
    });

    it("asks the sbom step for the image's SBOM and keeps where it is and what it lists", async () => {
      const made = { artifact: `127.0.0.1:5000/fleet/central-error-bus@sha256:${"5".repeat(64)}`, components: 4, byType: { deb: 1, pypi: 3 } };
      answer({ reply: made });
      const r = await sbomProvider.create!(state(image("a")));
      assert.deepEqual(stepsRun(), [{ step: "sbom", request: { image: image("a"), dockerHost: HOST } }]);
      assert.deepEqual(r, { id: "sbom-aaaaaaaaaaaa", outs: { ...state(image("a")), ...made } });
    });

    it("fails naming the image when no SBOM could be made", async () => {
      answer({ fail: "syft exited 1: image not found" });
      await assert.rejects(sbomProvider.create!(state(image("a"))), (e: Error) => e.message === `SBOM of ${image("a")}: syft exited 1: image not found`);
    });
  });

  describe("InventoryReport: what a service runs, told once per digest", () => {
    // test/unit/supply.test.ts covers a new commit, a new checkout, a new image and an undelivered report.
    const state = (extra: object = {}) => ({ url: "http://127.0.0.1:9100/sbom", service: "CentralErrorBus", machine: "local", stack: "s", image: image("a"), inputs: "b".repeat(64), commit: "f".repeat(40), dockerHost: HOST, ...extra });

    it("is sent again, naming why, for a new receiver, service, machine or stack", async () => {
      const other = { url: "http://observability.home.arpa/sbom", service: "FamilyWeb", machine: "pc2", stack: "pc2" };
      for (const [key, value] of Object.entries(other)) {
        assert.deepEqual(await reportProvider.diff!("r", state({ delivered: true }), state({ [key]: value })), replace(key), key);
      }
    });

    it("is sent again when the state does not say it was delivered (a state from before `delivered` was kept)", async () => {
      assert.deepEqual(await reportProvider.diff!("r", state(), state()), replace("delivered"));
    });

    it("sends service, machine, stack, image, inputs and commit (\"unknown\" when not known) through the report step", async () => {
      answer({ reply: { delivered: true, at: "2026-01-01T00:00:00.000Z", error: "" } });
      const r = await reportProvider.create!(state({ inputs: undefined, commit: undefined }));
      const request = { url: "http://127.0.0.1:9100/sbom", service: "CentralErrorBus", machine: "local", stack: "s", image: image("a"), inputs: "unknown", commit: "unknown", dockerHost: HOST };
      assert.deepEqual(stepsRun(), [{ step: "report", request }]);
      assert.match(r.id, /^report-CentralErrorBus-\d+$/);
      assert.deepEqual(r.outs, { ...state({ inputs: undefined, commit: undefined }), delivered: true, at: "2026-01-01T00:00:00.000Z", error: "" });
    });

    it("does not fail the update when the receiver is unreachable: the report is kept undelivered, with the reason", async () => {
      answer({ fail: "POST http://127.0.0.1:9100/sbom failed: connect ECONNREFUSED 127.0.0.1:9100" });
      const r = await reportProvider.create!(state());
      const outs = r.outs as { delivered: boolean; at: string; error: string };
      assert.equal(outs.delivered, false);
      assert.equal(outs.error, "POST http://127.0.0.1:9100/sbom failed: connect ECONNREFUSED 127.0.0.1:9100");
      assert.ok(!Number.isNaN(Date.parse(outs.at)), outs.at);
      // ...so the next up sends it again.
      assert.deepEqual(await reportProvider.diff!("r", { ...state(), ...outs }, state()), replace("delivered"));
    });
  });

  describe("ContainerStarted: a container's PIDs limit, its handover from the one it replaces, its first healthy answer", () => {
    const PROBE = ["python", "/usr/local/lib/fleet/healthcheck.py"];
    const state = (extra: object = {}) => ({ containerId: "c0ffee", service: "CentralErrorBus", limit: 512, dockerHost: HOST, probe: PROBE, timeoutSeconds: 1, stopGraceSeconds: 10, ...extra });
    const calls = () => fs.readFileSync(path.join(bin, "calls"), "utf8").split("\n").filter(Boolean).map((c) => c.replace(`${HOST}|`, ""));
    const flag = (name: string, text = "") => fs.writeFileSync(path.join(bin, name), text);
    let savedPath: string | undefined;

    // The provider runs `docker` from the PATH of its environment: the stand-in goes first.
    before(() => {
      savedPath = process.env.PATH;
      process.env.PATH = `${bin}:${savedPath ?? ""}`;
    });
    after(() => {
      if (savedPath === undefined) delete process.env.PATH;
      else process.env.PATH = savedPath;
    });

    it("is done again by an update on a new container, limit or engine (which knows the old container), and not for a new probe, timeout or grace", async () => {
      assert.deepEqual(await startedProvider.diff!("l", state(), state({ containerId: "beef" })), { changes: true, replaces: [] });
      assert.deepEqual(await startedProvider.diff!("l", state(), state({ limit: 1024 })), { changes: true, replaces: [] });
      assert.deepEqual(await startedProvider.diff!("l", state(), state({ dockerHost: "ssh://fleet@pc2" })), { changes: true, replaces: [] });
      assert.deepEqual(await startedProvider.diff!("l", state(), state({ probe: ["true"], timeoutSeconds: 90, stopGraceSeconds: 3 })), { changes: false, replaces: [] });
    });

    it("a first start: `docker update --pids-limit`, `docker start`, then the image's probe in the container, against the container's engine", async () => {
      const r = await startedProvider.create!(state());
      assert.deepEqual(r, { id: "c0ffee", outs: state() });
      assert.equal(fs.readFileSync(path.join(bin, "calls"), "utf8").split("\n")[0], `${HOST}|update --pids-limit 512 c0ffee`);
      assert.deepEqual(calls(), ["update --pids-limit 512 c0ffee", "start c0ffee", `exec c0ffee ${PROBE.join(" ")}`]);
    });

    it("a handover: the new container limited, started and probed next to the old one, which is stopped with its grace only once the new one answers", async () => {
      const r = await startedProvider.update!("old", state({ containerId: "old" }), state());
      assert.deepEqual(r, { outs: state() });
      assert.deepEqual(calls(), ["update --pids-limit 512 c0ffee", "start c0ffee", `exec c0ffee ${PROBE.join(" ")}`, "stop --time 10 old"]);
    });

    it("a new limit on the same container stops nothing", async () => {
      await startedProvider.update!("c0ffee", state({ limit: 256 }), state());
      assert.ok(!calls().some((c) => c.startsWith("stop")), calls().join("\n"));
    });

    it("an old container already gone is as good as stopped", async () => {
      flag("gone");
      await startedProvider.update!("old", state({ containerId: "old" }), state());
      assert.deepEqual(calls().slice(-3), ["start c0ffee", `exec c0ffee ${PROBE.join(" ")}`, "stop --time 10 old"]);
    });

    it("fails naming the limit, the container and the engine's reason, before it stops anything", async () => {
      flag("fail");
      await assert.rejects(startedProvider.update!("old", state({ containerId: "old" }), state()), (e: Error) => e.message === "fleet: could not set the PIDs limit 512 on container c0ffee: Error response from daemon: No such container: c0ffee");
      assert.ok(!calls().some((c) => c.startsWith("stop")), calls().join("\n"));
    });

    it("a new container that does not answer is stopped, the old one was never stopped and keeps the service, and the error says so with the probe's answer and the output", async () => {
      flag("unhealthy");
      await assert.rejects(
        startedProvider.update!("old", state({ containerId: "old" }), state()),
        (e: Error) =>
          e.message ===
          "fleet: CentralErrorBus: its new container c0ffee did not answer healthy within 1s (state: running), although its canary did; see `docker logs c0ffee`; the container it replaces (old) keeps the service. Last health check and output:\nhealth: connection refused\nTraceback: the service stopped",
      );
      assert.ok(calls().filter((c) => c.startsWith("exec ")).length >= 3, "probed more than once in its second");
      // It gives up its name (its settings'), which a rollback to its own image needs for its container.
      assert.deepEqual(calls().slice(-4), ["stop --time 1 c0ffee", "start old", "inspect -f {{.Name}} old", "rename old fleet-x-central-error-bus-1234abcd-kept"]);
      assert.ok(!calls().some((c) => c.startsWith("stop --time 10")), "the old container was never stopped");
    });

    it("a new container that does not start leaves the service with the old one", async () => {
      flag("nostart");
      await assert.rejects(startedProvider.update!("old", state({ containerId: "old" }), state()), /^Error: fleet: CentralErrorBus: its new container c0ffee did not start: Error response from daemon: port is already allocated; the container it replaces \(old\) keeps the service$/);
      assert.ok(!calls().some((c) => c.startsWith("stop")), "the old container was never stopped");
      assert.deepEqual(calls().slice(-3, -2), ["start old"]);
      assert.ok(calls().filter((c) => c === "start c0ffee").length >= 2, "a held port is waited for until the time is up");
    });

    it("starts once a held port is let go of (the first up after the services gave their ports to the stack's ports)", async () => {
      flag("nostart");
      setTimeout(() => fs.rmSync(path.join(bin, "nostart"), { force: true }), 700);
      await startedProvider.create!(state({ timeoutSeconds: 30 }));
      const starts = calls().filter((c) => c === "start c0ffee").length;
      assert.ok(starts >= 2, `tried again: ${calls().join(", ")}`);
      assert.equal(calls().at(-1), `exec c0ffee ${PROBE.join(" ")}`);
    });

    it("probes again at once after a failed probe, without asking the engine for the state while the probe's answer says the container runs", async () => {
      flag("unhealthy");
      setTimeout(() => fs.rmSync(path.join(bin, "unhealthy"), { force: true }), 300);
      await startedProvider.create!(state({ timeoutSeconds: 30 }));
      const probes = calls().filter((c) => c.startsWith("exec ")).length;
      assert.ok(probes >= 3, `probed again within the 0.3 s: ${calls().join(", ")}`);
      assert.ok(!calls().some((c) => c.startsWith("inspect")), calls().join(", "));
    });

    it("stops waiting as soon as the container is no longer running", async () => {
      flag("unhealthy");
      flag("state", "exited\n");
      await assert.rejects(startedProvider.create!(state({ timeoutSeconds: 60 })), /within 60s \(state: exited\)/);
      assert.equal(calls().filter((c) => c.startsWith("exec ")).length, 1);
    });

    it("a refresh reads a container that no longer runs as none started, so that the drift check shows it and the next update starts it", async () => {
      assert.deepEqual(await startedProvider.read!("c0ffee", state()), { id: "c0ffee", props: state() });
      flag("state", "exited\n");
      const stopped = await startedProvider.read!("c0ffee", state());
      assert.deepEqual(stopped, { id: "c0ffee", props: state({ containerId: "" }) });
      assert.deepEqual(await startedProvider.diff!("c0ffee", stopped.props as never, state()), { changes: true, replaces: [] });
      fs.rmSync(path.join(bin, "calls"));
      // Started again by the update, it runs.
      fs.rmSync(path.join(bin, "state"));
      await startedProvider.update!("c0ffee", stopped.props as never, state());
      assert.ok(!calls().some((c) => c.startsWith("stop")), "nothing to stop");
      assert.ok(calls().includes("start c0ffee"));
    });
  });

  describe("providers without an update", () => {
    // Pulumi's dynamic provider host keeps the new inputs and runs nothing when a provider has no
    // update (node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js): a change that did not
    // replace would record a scan, SBOM, report or limit that never happened.
    const two = <T>(a: T, b: T) => fc.constantFrom(a, b);
    const cases: [string, pulumi.dynamic.ResourceProvider, fc.Arbitrary<Record<string, unknown>>][] = [
      ["ScanGate", gateProvider, fc.record({ service: two("A", "B"), image: two(image("a"), image("b")), severity: two("HIGH", "LOW"), failOnUnfixed: fc.boolean(), dbDir: two("", "/db"), allowlist: two([], [{ id: "CVE-1" }]), dockerHost: two(HOST, "ssh://x") })],
      ["ImageSbom", sbomProvider, fc.record({ image: two(image("a"), image("b")), dockerHost: two(HOST, "ssh://x") })],
      ["InventoryReport", reportProvider, fc.record({ url: two("http://a/sbom", "http://b/sbom"), service: two("A", "B"), machine: two("local", "pc2"), stack: two("s", "t"), image: two(image("a"), image("b")), inputs: two("x", "y"), commit: two("c", "d"), dockerHost: two(HOST, "ssh://x"), delivered: two(true, false) })],
    ];

    for (const [name, provider, states] of cases) {
      it(`${name}: every change replaces it, so that create does the work again`, async () => {
        assert.equal(provider.update, undefined);
        await fc.assert(
          fc.asyncProperty(states, states, async (olds, news) => {
            const d = await provider.diff!("x", olds, news);
            assert.equal(d.changes, (d.replaces ?? []).length > 0, JSON.stringify(d));
          }),
        );
      });
    }
  });
});
