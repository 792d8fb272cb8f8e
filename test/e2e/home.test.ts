import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkout, FLEET_CACHE, get, must, Ran, run } from "../support/engine";
import { REPO, tempDir } from "../support/project";
import { writeResults } from "../support/results";
import { GitHubStandIn, JobResult, runJob } from "../support/workflows";

/**
 * At home, rehearsed: the README's home steps (section "At home"), every line of its `home-*`,
 * `review-*`, `deploy-*` and `rollback-*` blocks run as written, on two machines made of this one:
 *
 * - each machine is a clone of the project with a home of its own (HOME), a Docker engine of its
 *   own (scripts/engine.sh, with /etc/docker/daemon.json moved into it) and no environment of the
 *   test run: PATH holds an installed Pulumi CLI in a folder of its own (the CLI and language host
 *   the toolchain compiled, copied there), Node and the system; the provider plugins are installed
 *   into the empty ~/.pulumi with `pulumi plugin install --file`, where the engine would download
 *   them;
 * - the user's backend is `pulumi login file://<a folder of the test>`, with a passphrase;
 * - the home registry is `registry.home.arpa:5000`, a name this test adds to /etc/hosts for
 *   127.0.0.7 (mainpc's address) and removes after; plain HTTP, trusted by the README's setup;
 * - GPUs: each engine has stand-ins for the NVIDIA Container Toolkit's runtime and hook (engine.sh
 *   FLEET_ENGINE_GPU), which print the recorded RTX 4090 (mainpc) or RTX 3060 (pc2): device
 *   requests, the GPU env and the preflight run end to end; nothing computes on a GPU (the real
 *   proof is `npm run test:cuda` on a GPU host).
 *
 * What the test sets that the README does not tell a user: in each committed stack file, the
 * engine (fleet:dockerHost, the machine's private engine), `fleet:locks: cpu` (the GPU
 * families' CUDA wheels are gigabytes, not downloaded here), a longer health timeout (other
 * suites run beside this one), and on mainpc one service's own
 * source folder (services/central-error-bus, what a user's service repository holds). The README's
 * example addresses, 192.168.1.20 (mainpc) and 192.168.1.30 (pc2), become 127.0.0.7 and 127.0.0.8,
 * and its backend folder /srv/fleet-state one of the test's. `sudo` is a stand-in that runs the
 * command as it is (the test runs as root); with no systemd here, the setup starts its services
 * itself and says so, and the test restarts an engine where the setup says to.
 */
describe("at home: the README's home steps on mainpc and pc2", function () {
  // Each case builds on the one before (one home, in order): the first failure here skips the rest
  // of this suite. Not mocha's bail: a suite that bails runs nothing once any earlier file of the
  // same run has failed, so one failure elsewhere hid every home case without a word.
  let stopped = false;
  beforeEach(function () {
    if (stopped) this.skip();
  });
  afterEach(function () {
    if (this.currentTest?.state === "failed") stopped = true;
  });
  const work = tempDir("fleet-home-", this);
  const backend = path.join(work, "fleet-state");
  const HOSTS_LINE = "127.0.0.7 registry.home.arpa # fleet home rehearsal";
  const CEB = "services/central-error-bus";
  const GPU_SERVICES: Record<string, string[]> = { mainpc: ["AffectiveProcessingCenter", "ModelOpsCoordinator", "RealTimeAudioPipeline"], pc2: ["RealTimeAudioPipeline"] };
  /** The README's example values and what they are on this machine. */
  const values: Record<string, string> = { "192.168.1.20": "127.0.0.7", "192.168.1.30": "127.0.0.8", "/srv/fleet-state": backend };
  const blocks = readmeBlocks(fs.readFileSync(path.join(REPO, "README.md"), "utf8"));

  interface Machine {
    readonly name: "mainpc" | "pc2";
    readonly addr: string;
    readonly dir: string;
    readonly env: NodeJS.ProcessEnv;
    readonly engine: string;
    /** The machine's engine (scripts/engine.sh) under `action`. */
    engineDo(action: string): string;
  }
  const machines: Record<string, Machine> = {};
  const log: string[] = [];
  const steps: { machine: string; readme: boolean; line: string; status: number; seconds: number }[] = [];
  /** CentralErrorBus's digest before and after the change (the change case sets them). */
  const ceb = { before: "", after: "" };

  /**
   * Runs one README line on a machine, as its user would type it in one terminal (bash, in the
   * clone): an `export NAME=value` line stays in the machine's environment for the lines after it.
   */
  const type = (m: Machine, line: string, readme = false): Ran => {
    const exported = /^export ([A-Za-z_][A-Za-z0-9_]*)=/.exec(line);
    const r = run("bash", ["-c", exported ? `${line}; printf %s "$${exported[1]}"` : line], { cwd: m.dir, env: m.env, timeoutSeconds: 3600 });
    if (exported && r.status === 0) m.env[exported[1]] = r.stdout;
    log.push(`${m.name}$ ${line}  (exit ${r.status}, ${r.seconds.toFixed(0)} s)`);
    steps.push({ machine: m.name, readme, line, status: r.status, seconds: Math.round(r.seconds * 10) / 10 });
    fs.appendFileSync(path.join(work, `${m.name}.log`), `$ ${line}\n${r.stdout}${r.stderr}\n(exit ${r.status}, ${r.seconds.toFixed(1)} s)\n`);
    if (r.status !== 0) assert.fail(`${m.name}: \`${line}\` exited ${r.status}\n${tail(r.stdout)}\n${tail(r.stderr)}`);
    return r;
  };
  /** Runs a README block's lines on a machine, with the README's example values made this machine's. */
  const play = (m: Machine, block: string): Ran[] => {
    const lines = blocks[block];
    assert.ok(lines?.length, `README.md has a \`\`\`sh ${block} block`);
    return lines.map((line) => type(m, Object.entries(values).reduce((l, [from, to]) => l.split(from).join(to), line), true));
  };
  const pulumi = (m: Machine, ...args: string[]) => type(m, ["pulumi", ...args].map((a) => `'${a}'`).join(" "));
  const noChanges = (m: Machine) => pulumi(m, "preview", "-s", m.name, "--expect-no-changes", "--non-interactive");
  const docker = (m: Machine, ...args: string[]) => must("docker", args, { cwd: m.dir, env: { ...process.env, DOCKER_HOST: m.engine } }).stdout.trim();
  const output = <T>(m: Machine, name: string): T => JSON.parse(pulumi(m, "stack", "output", name, "--json", "-s", m.name).stdout) as T;
  const inspect = (m: Machine, service: string) => {
    const id = docker(m, "ps", "-q", "--filter", `label=dev.fleet.stack=${m.name}`, "--filter", `label=dev.fleet.service=${service}`);
    assert.ok(id && !id.includes("\n"), `${m.name}: one running container of ${service}`);
    return JSON.parse(docker(m, "inspect", id))[0];
  };
  const envOf = (m: Machine, service: string) => Object.fromEntries((inspect(m, service).Config.Env as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  /** Waits until the stack's `services` containers and its ports' container are all running and healthy. */
  const allHealthy = async (m: Machine, services: number, timeoutSeconds = 120) => {
    const start = Date.now();
    for (;;) {
      const states = docker(m, "ps", "-a", "--filter", `label=dev.fleet.stack=${m.name}`, "--format", "{{.Status}}").split("\n").filter(Boolean);
      if (states.length === services + 1 && states.every((s) => /\(healthy\)/.test(s))) return;
      if (Date.now() - start > timeoutSeconds * 1000) assert.fail(`${m.name}: not every service healthy within ${timeoutSeconds}s: ${states.join("; ")}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  const answers = async (m: Machine) => {
    const services = output<Record<string, { healthUrl: string; image: string }>>(m, "services");
    for (const [name, s] of Object.entries(services)) {
      assert.match(s.healthUrl, new RegExp(`^http://${m.addr.replace(/\./g, "\\.")}:`), name);
      const res = await get(s.healthUrl);
      assert.deepEqual([res.status, JSON.parse(res.body)], [200, { status: "ok" }], `${m.name} ${name}`);
    }
    return services;
  };

  /** A machine: a clone, a home, an engine with a GPU stand-in, an installed CLI with its plugins. */
  const machine = (name: "mainpc" | "pc2", addr: string, gpuCsv: string): Machine => {
    const root = path.join(work, name);
    const home = path.join(root, "home");
    // One run dir per machine across runs (the engine's and the builder's sockets and pid files),
    // so a run stops whatever an earlier run of this suite left running there.
    const runDir = `/run/fleet-home/${name}`;
    fs.mkdirSync(home, { recursive: true });
    // A clone without node_modules: the README's `npm ci` installs them.
    const dir = checkout(path.join(root, "fleet"), "0022", REPO, { nodeModules: false });
    // The engine: the machine's own, its daemon.json where the setup writes the registry's trust.
    const engineName = `home-${name}`;
    const shared = { ...process.env, FLEET_RUN_DIR: runDir };
    const daemonJson = path.join(FLEET_CACHE, "instances", `docker-${engineName}`, "daemon.json");
    run("bash", ["scripts/engine.sh", "down", "buildkit", "fleet"], { cwd: REPO, env: shared });
    run("bash", ["scripts/engine.sh", "down", "docker", engineName], { cwd: REPO, env: shared });
    // A machine as found: its engine configured by nothing yet (the data root stays: dockerd keeps
    // it mounted on itself; the containers and volumes of an earlier run are removed below).
    fs.mkdirSync(path.dirname(daemonJson), { recursive: true });
    fs.writeFileSync(daemonJson, "{}\n");
    const engineDo = (action: string) => must("bash", ["scripts/engine.sh", action, "docker", engineName], { cwd: REPO, env: { ...shared, FLEET_ENGINE_GPU: gpuCsv } }).stdout.trim();
    const engine = engineDo("up");
    must("sh", ["-c", 'ids=$(docker ps -aq); [ -z "$ids" ] || docker rm -f -v $ids >/dev/null; docker network prune -f >/dev/null; docker volume prune -f >/dev/null'], { cwd: REPO, env: { ...process.env, DOCKER_HOST: engine } });
    // The user's caches: the compiled tools this machine already has (the toolchain, BuildKit,
    // syft and Trivy, the debootstrap rootfs), nothing else: backend, logins, plugins and the
    // supply record are the user's own.
    const cache = path.join(home, ".cache", "fleet");
    fs.mkdirSync(cache, { recursive: true });
    for (const d of ["toolchain", "rootfs", "go"]) if (fs.existsSync(path.join(FLEET_CACHE, d))) fs.symlinkSync(path.join(FLEET_CACHE, d), path.join(cache, d));
    // Of the shared bin only what the home setup would put there (BuildKit) and the engine's
    // client: the compiled pulumi stays out, so the installed one is the only pulumi this user has.
    fs.mkdirSync(path.join(cache, "bin"));
    for (const f of ["buildkitd", "buildctl", "docker"]) if (fs.existsSync(path.join(FLEET_CACHE, "bin", f))) fs.symlinkSync(fs.realpathSync(path.join(FLEET_CACHE, "bin", f)), path.join(cache, "bin", f));
    // The installed CLI: a folder of its own with pulumi and its language host, as a release has.
    const cli = path.join(root, "pulumi", "bin");
    fs.mkdirSync(cli, { recursive: true });
    for (const f of ["pulumi", "pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"]) fs.copyFileSync(fs.realpathSync(path.join(FLEET_CACHE, "bin", f)), path.join(cli, f));
    for (const f of fs.readdirSync(cli)) fs.chmodSync(path.join(cli, f), 0o755);
    const standins = path.join(root, "standins");
    fs.mkdirSync(standins);
    fs.writeFileSync(path.join(standins, "sudo"), '#!/bin/sh\n# Stand-in: the test runs as root; the command runs as it is, in the user\'s environment.\nexec "$@"\n', { mode: 0o755 });
    // The machine's network settings, which every user of it has: its CA bundles (a proxy that
    // re-signs TLS, here) and pip's settings for reaching the package index.
    const network = Object.fromEntries(Object.entries(process.env).filter(([k]) => /CERT|CA_BUNDLE|SSL|PROXY|^PIP_/i.test(k) && !/^FLEET_|^PULUMI_/.test(k)));
    const env: NodeJS.ProcessEnv = {
      ...network,
      HOME: home,
      USER: "root",
      // Pulumi finds its home through /etc/passwd, not $HOME: every user here is uid 0, whose home
      // there is /root, so each machine's user names its own ~/.pulumi, as a real user's would be.
      PULUMI_HOME: path.join(home, ".pulumi"),
      LANG: "C.UTF-8",
      PATH: [cli, standins, path.dirname(process.execPath), "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"].join(":"),
      // The machine's pieces, where this machine keeps them (scripts/home-setup.sh's variables).
      DOCKER_HOST: engine,
      DOCKER_DAEMON_JSON: daemonJson,
      FLEET_RUN_DIR: runDir,
      FLEET_REGISTRY_CONFIG: path.join(root, "registry", "config.yml"),
      FLEET_REGISTRY_STORAGE: path.join(root, "registry", "storage"),
      // The CLI's update check and the npm install scripts' plugin downloads reach no network here.
      PULUMI_SKIP_UPDATE_CHECK: "true",
    };
    // The provider plugins, where the engine's own download would put them.
    for (const [kind, plugin, version] of [["resource", "docker-build", "0.0.22"], ["resource", "docker", "5.2.0"]]) {
      const bin = path.join(os.homedir(), ".pulumi", "plugins", `${kind}-${plugin}-v${version}`, `pulumi-${kind}-${plugin}`);
      must(path.join(cli, "pulumi"), ["plugin", "install", kind, plugin, version, "--file", bin], { cwd: dir, env });
    }
    // What the test sets in the committed stack file besides what the README tells a user to set.
    const stackFile = path.join(dir, `Pulumi.${name}.yaml`);
    let text = fs.readFileSync(stackFile, "utf8").replace(/^  fleet:dockerHost: .*$/m, `  fleet:dockerHost: ${engine}`);
    text += "  fleet:locks: cpu\n";
    // This machine runs the other suites beside this one: a service may take longer than the
    // default 120 s to answer its first health check here.
    text += '  fleet:healthTimeoutSeconds: "300"\n';
    if (name === "mainpc") {
      fs.cpSync(path.join(dir, "examples", "reference-service"), path.join(dir, CEB), { recursive: true });
      text += `  fleet:sources:\n    CentralErrorBus: ${CEB}\n`;
    }
    fs.writeFileSync(stackFile, text);
    return { name, addr, dir, env, engine, engineDo };
  };

  before(function () {
    const hosts = fs.readFileSync("/etc/hosts", "utf8");
    if (!hosts.includes(HOSTS_LINE)) fs.appendFileSync("/etc/hosts", `${HOSTS_LINE}\n`);
    fs.mkdirSync(backend);
    const fixtures = path.join(REPO, "test", "fixtures", "nvidia-smi");
    machines.mainpc = machine("mainpc", "127.0.0.7", path.join(fixtures, "rtx4090.csv"));
    machines.pc2 = machine("pc2", "127.0.0.8", path.join(fixtures, "rtx3060.csv"));
  });

  after(function () {
    writeResults("e2e-home", this.test!.parent!, { steps });
    fs.writeFileSync(path.join(work, "steps.log"), log.join("\n") + "\n");
    console.log(`      steps and times: ${path.join(work, "steps.log")}`);
    for (const m of [machines.pc2, machines.mainpc].filter(Boolean)) {
      run("bash", ["-c", `pulumi destroy --yes --non-interactive -s ${m.name}`], { cwd: m.dir, env: m.env, timeoutSeconds: 900 });
      m.engineDo("down");
      run("bash", ["scripts/engine.sh", "down", "buildkit", "fleet"], { cwd: REPO, env: { ...process.env, FLEET_CACHE: path.join(m.env.HOME!, ".cache", "fleet"), FLEET_RUN_DIR: m.env.FLEET_RUN_DIR } });
    }
    const pid = path.join(work, "mainpc", "registry", "registry.pid");
    if (fs.existsSync(pid)) run("kill", [fs.readFileSync(pid, "utf8").trim()], { cwd: work });
    fs.writeFileSync("/etc/hosts", fs.readFileSync("/etc/hosts", "utf8").split("\n").filter((l) => l !== HOSTS_LINE).join("\n"));
  });

  it("mainpc: the README's setup and first up build the 15 images and run its nine services, GPUs by the profile", async function () {
    const m = machines.mainpc;
    play(m, "home-mainpc-setup");
    // With no systemd here the setup asked for the engine's restart (its daemon.json changed).
    m.engineDo("restart");
    play(m, "home-mainpc");
    // The policy pack's analyzer is registered in the user's plugin cache by `npm run toolchain`.
    assert.ok(fs.existsSync(path.join(m.env.HOME!, ".pulumi", "plugins", "analyzer-policy-fleet-node-v1.0.0")), "the policy analyzer is registered with the installed CLI");
    const services = await answers(m);
    assert.equal(Object.keys(services).length, 9);
    assert.equal(Object.keys(output<Record<string, string>>(m, "images")).length, 10, "every catalog image, CentralErrorBus too");
    for (const [name, s] of Object.entries(services)) assert.match(s.image, /^registry\.home\.arpa:5000\/fleet\/.+@sha256:[0-9a-f]{64}$/, name);
    for (const service of GPU_SERVICES.mainpc) {
      const c = inspect(m, service);
      assert.deepEqual(c.HostConfig.DeviceRequests?.map((d: { DeviceIDs: string[]; Capabilities: string[][] }) => [d.DeviceIDs, d.Capabilities.flat().includes("gpu")]), [[["0"], true]], `${service} asks for GPU 0`);
      assert.equal(envOf(m, service).TORCH_CUDA_ALLOC_CONF, "max_split_size_mb:64");
      assert.equal(envOf(m, service).UVICORN_WORKERS, "1", `${service}: one worker on a GPU`);
    }
    assert.equal(inspect(m, "ServiceRegistry").HostConfig.DeviceRequests?.length ?? 0, 0, "a CPU service gets no GPU");
    assert.equal(envOf(m, "ServiceRegistry").UVICORN_WORKERS, "32");
    assert.equal(envOf(m, "ServiceRegistry").OMP_NUM_THREADS, "16");
    noChanges(m);
  });

  it("pc2: the README's setup and first up build nothing and run its five services on mainpc's digests", async function () {
    const m = machines.pc2;
    play(m, "home-pc2-setup");
    m.engineDo("restart");
    play(m, "home-pc2");
    const images = output<Record<string, string>>(machines.mainpc, "images");
    const services = await answers(m);
    assert.deepEqual(Object.keys(services).sort(), ["CentralErrorBus", "MemoryFusionHub", "RealTimeAudioPipeline", "SelfHealingSupervisor", "UnifiedObservabilityCenter"]);
    for (const [name, s] of Object.entries(services)) assert.equal(s.image, images[name], `${name} runs the digest mainpc built`);
    const state = JSON.parse(pulumi(m, "stack", "export", "-s", "pc2").stdout) as { deployment: { resources: { urn: string; type: string; sourcePosition?: string; stackTrace?: unknown[] }[] } };
    assert.equal(state.deployment.resources.filter((r) => r.type === "docker-build:index:Image").length, 0, "pc2 builds no image");
    // Where each resource came from: the line of the fleet that declared it, not the JavaScript stack under it.
    const declared = state.deployment.resources.filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:"));
    assert.deepEqual(declared.filter((r) => !/^project:\/\/\/(components\/\w+|index)\.ts#\d+,\d+$/.test(r.sourcePosition ?? "") || (r.stackTrace?.length ?? 0) > 1).map((r) => r.urn), []);
    const rtap = inspect(m, "RealTimeAudioPipeline");
    assert.deepEqual(rtap.HostConfig.DeviceRequests?.map((d: { DeviceIDs: string[] }) => d.DeviceIDs), [["0"]]);
    assert.equal(envOf(m, "RealTimeAudioPipeline").TORCH_CUDA_ALLOC_CONF, "max_split_size_mb:32");
    assert.equal(envOf(m, "MemoryFusionHub").OMP_NUM_THREADS, "4");
    noChanges(m);
    noChanges(machines.mainpc);
  });

  it("a change to one service: reviewed with its digest change and the policies, deployed on mainpc, then run on pc2", async function () {
    const main = machines.mainpc;
    const pc2 = machines.pc2;
    const before = output<Record<string, string>>(main, "images");
    const ids = (m: Machine) => Object.fromEntries(docker(m, "ps", "--filter", `label=dev.fleet.stack=${m.name}`, "--format", '{{.Label "dev.fleet.service"}} {{.ID}}').split("\n").map((l) => l.split(" ")));
    const pc2Before = ids(pc2);
    fs.appendFileSync(path.join(main.dir, CEB, "app", "__init__.py"), "# a change to CentralErrorBus\n");
    const [preview, review] = play(main, "review-mainpc");
    assert.match(preview.stdout, /fleet-central-error-bus-image +update/, "the preview shows the image of CentralErrorBus changing");
    assert.match(review.stdout, /CentralErrorBus/);
    assert.match(review.stdout, /policy pack: \d+ passed, 0 failed/, "the policy pack ran and passed");
    const after = output<Record<string, string>>(main, "images");
    Object.assign(ceb, { before: before.CentralErrorBus, after: after.CentralErrorBus });
    assert.deepEqual(Object.keys(after).filter((s) => after[s] !== before[s]), ["CentralErrorBus"], "only CentralErrorBus's image changed");
    noChanges(main);
    play(pc2, "deploy-pc2");
    const services = await answers(pc2);
    assert.equal(services.CentralErrorBus.image, after.CentralErrorBus);
    const pc2After = ids(pc2);
    for (const s of Object.keys(pc2Before).filter((s) => s !== "CentralErrorBus")) assert.equal(pc2After[s], pc2Before[s], `${s} was left running as it was`);
    assert.notEqual(pc2After.CentralErrorBus, pc2Before.CentralErrorBus);
    noChanges(pc2);
  });

  it("history and a rollback of one service on pc2 put it back on its earlier digest, leaving nothing to change", async function () {
    const pc2 = machines.pc2;
    assert.ok(ceb.before && ceb.after !== ceb.before, "the change case ran");
    const [history, rollback] = play(pc2, "rollback-pc2");
    assert.match(history.stdout, /CentralErrorBus/, "fleet history lists the updates with their images");
    assert.match(rollback.stdout + rollback.stderr, /CentralErrorBus/);
    const services = await answers(pc2);
    assert.equal(services.CentralErrorBus.image, ceb.before, "CentralErrorBus runs the digest of pc2's update 1");
    assert.match(fs.readFileSync(path.join(pc2.dir, "Pulumi.pc2.yaml"), "utf8"), /CentralErrorBus: registry\.home\.arpa:5000\/fleet\/central-error-bus@sha256:/, "the pin is in the stack file, for review");
    noChanges(pc2);
  });

  it("release on pc2 puts the service back on mainpc's newest digest, leaving nothing to change", async function () {
    const pc2 = machines.pc2;
    play(pc2, "release-pc2");
    assert.equal((await answers(pc2)).CentralErrorBus.image, ceb.after);
    assert.doesNotMatch(fs.readFileSync(path.join(pc2.dir, "Pulumi.pc2.yaml"), "utf8"), /CentralErrorBus: registry\.home\.arpa/, "release removed the pin");
    noChanges(pc2);
  });

  // The workflows (.github/workflows) on the same two machines, as their self-hosted runners run
  // them (test/support/workflows.ts): `origin` stands in for the GitHub repository, holding main
  // with the machines' committed stack files and the pull requests' commits.
  const gh = new GitHubStandIn({ repository: "home/fleet" });
  const origin = path.join(work, "origin");
  const git = (...args: string[]) => must("git", ["-c", "user.name=fleet-home", "-c", "user.email=home@fleet.invalid", ...args], { cwd: origin }).stdout.trim();
  const commitAll = (message: string) => {
    git("add", "-A");
    git("commit", "-qm", message);
    return git("rev-parse", "HEAD");
  };
  const pr = (number: number, branch: string) => ({ name: "pull_request" as const, payload: { pull_request: { number, head: { ref: branch, repo: { full_name: "home/fleet" } }, base: { ref: "main" } } } });
  const job = async (m: Machine, file: string, name: string, event: { name: "pull_request" | "push" | "schedule"; payload: object }, sha: string, ref: string, matrix?: Record<string, string>): Promise<JobResult> => {
    // The runner service's environment: the machine's, without what the user typed in a terminal.
    const { PULUMI_CONFIG_PASSPHRASE: passphrase, ...env } = m.env;
    const r = await runJob({
      workflowFile: path.join(origin, ".github", "workflows", file),
      job: name,
      matrix,
      event,
      repo: { origin, sha, ref },
      workspace: path.join(work, m.name, "runner", "_work", "fleet", "fleet"),
      env,
      secrets: { PULUMI_CONFIG_PASSPHRASE: passphrase ?? "" },
      vars: { PULUMI_BACKEND_URL: `file://${backend}` },
      github: gh,
      onStep: (st) => steps.push({ machine: m.name, readme: false, line: `${file} ${name}: ${st.name} (${st.outcome})`, status: st.outcome === "failure" ? 1 : 0, seconds: Math.round(st.seconds * 10) / 10 }),
    });
    fs.appendFileSync(path.join(work, `${m.name}.log`), r.steps.map((st) => `## ${file} ${name}: ${st.name}: ${st.outcome}\n${st.stdout}${st.stderr}`).join("\n"));
    return r;
  };
  const failed = (r: JobResult) => r.steps.filter((st) => st.outcome === "failure").map((st) => `${st.name}:\n${tail(st.stdout)}\n${tail(st.stderr)}`).join("\n");
  const commentOf = (number: number, stack: string) => gh.comments.filter((c) => c.issue_number === number && c.body.startsWith(`<!-- fleet-review:${stack} -->`));
  let main = "";

  it("workflows: the drift check passes on both machines when nothing changed", async function () {
    must("git", ["clone", "-q", REPO, origin], { cwd: work });
    for (const m of [machines.mainpc, machines.pc2]) fs.copyFileSync(path.join(m.dir, `Pulumi.${m.name}.yaml`), path.join(origin, `Pulumi.${m.name}.yaml`));
    fs.cpSync(path.join(machines.mainpc.dir, CEB), path.join(origin, CEB), { recursive: true });
    main = commitAll("home: the machines' stack files and CentralErrorBus's source");
    for (const m of [machines.mainpc, machines.pc2]) {
      const r = await job(m, "drift.yml", "drift", { name: "schedule", payload: {} }, main, "refs/heads/main", { stack: m.name });
      assert.equal(r.status, "success", `drift ${m.name}\n${failed(r)}`);
    }
    assert.deepEqual(gh.issues, [], "no drift issue");
  });

  it("workflows: a pull request changing one service gets a review comment per stack, updated in place by the next push", async function () {
    git("checkout", "-q", "-b", "ceb-change", main);
    fs.appendFileSync(path.join(origin, CEB, "app", "__init__.py"), "# pull request 7\n");
    const first = commitAll("CentralErrorBus: a change");
    for (const m of [machines.mainpc, machines.pc2]) {
      const r = await job(m, "ci.yml", "review", pr(7, "ceb-change"), first, "refs/pull/7/merge", { stack: m.name });
      assert.equal(r.status, "success", `review ${m.name}\n${failed(r)}`);
      assert.equal(commentOf(7, m.name).length, 1, `one comment for ${m.name}`);
    }
    assert.match(commentOf(7, "mainpc")[0].body, /CentralErrorBus/, "mainpc's review names the rebuilt image");
    const mainpcComment = commentOf(7, "mainpc")[0];
    const before = mainpcComment.body;
    fs.appendFileSync(path.join(origin, CEB, "app", "__init__.py"), "# pull request 7, second push\n");
    const second = commitAll("CentralErrorBus: a second push");
    const r = await job(machines.mainpc, "ci.yml", "review", pr(7, "ceb-change"), second, "refs/pull/7/merge", { stack: "mainpc" });
    assert.equal(r.status, "success", failed(r));
    assert.equal(commentOf(7, "mainpc").length, 1, "the same comment, not a second one");
    assert.equal(commentOf(7, "mainpc")[0].id, mainpcComment.id);
    assert.ok(gh.calls.some((c) => c.method === "issues.updateComment"), "updated in place");
    assert.notEqual(commentOf(7, "mainpc")[0].body, before, "with the second push's review");
  });

  it("workflows: a pull request that breaks a policy fails its review, and the comment names the policy", async function () {
    git("checkout", "-q", "-b", "writable-root", main);
    const file = path.join(origin, "components", "runSpec.ts");
    const good = fs.readFileSync(file, "utf8");
    assert.ok(good.includes("readOnly: true,"), `${file} sets every container's read-only root`);
    fs.writeFileSync(file, good.replace("readOnly: true,", "readOnly: false,"));
    const sha = commitAll("containers: a writable root");
    const r = await job(machines.mainpc, "ci.yml", "review", pr(8, "writable-root"), sha, "refs/pull/8/merge", { stack: "mainpc" });
    assert.equal(r.status, "failure");
    assert.match(commentOf(8, "mainpc")[0]?.body ?? "", /read-only-root/);
  });

  it("workflows: the deploy of main runs mainpc, then pc2 on mainpc's new digests", async function () {
    git("checkout", "-q", "main");
    git("merge", "-q", "--ff-only", "ceb-change");
    main = git("rev-parse", "HEAD");
    const before = output<Record<string, string>>(machines.mainpc, "images");
    const push = { name: "push" as const, payload: { ref: "refs/heads/main" } };
    const a = await job(machines.mainpc, "deploy.yml", "mainpc", push, main, "refs/heads/main");
    assert.equal(a.status, "success", failed(a));
    const b = await job(machines.pc2, "deploy.yml", "pc2", push, main, "refs/heads/main");
    assert.equal(b.status, "success", failed(b));
    const after = output<Record<string, string>>(machines.mainpc, "images");
    assert.notEqual(after.CentralErrorBus, before.CentralErrorBus);
    assert.equal((await answers(machines.pc2)).CentralErrorBus.image, after.CentralErrorBus, "pc2 runs what mainpc's deploy built");
    // The machines' own clones follow main, as a user's would after `git pull`.
    fs.cpSync(path.join(origin, CEB), path.join(machines.mainpc.dir, CEB), { recursive: true });
  });

  it("workflows: a container changed by hand is drift: the check fails and its issue names the service", async function () {
    const pc2 = machines.pc2;
    const id = docker(pc2, "ps", "-q", "--filter", "label=dev.fleet.stack=pc2", "--filter", "label=dev.fleet.service=CentralErrorBus");
    docker(pc2, "rm", "-f", id);
    const r = await job(pc2, "drift.yml", "drift", { name: "schedule", payload: {} }, main, "refs/heads/main", { stack: "pc2" });
    assert.equal(r.status, "failure");
    const issue = gh.issues.find((i) => i.title === "drift: pc2 differs from main" && i.state === "open");
    assert.ok(issue, "a drift issue for pc2");
    assert.match(issue.body, /CentralErrorBus/);
    // Put it back, as the person who reads the issue would.
    pulumi(pc2, "up", "-s", "pc2", "--yes", "--refresh", "--non-interactive");
    await answers(pc2);
  });

  it("both engines restarted as their service manager would: every service answers again, nothing to change", async function () {
    for (const m of [machines.mainpc, machines.pc2]) {
      m.engineDo("restart");
      await allHealthy(m, m.name === "mainpc" ? 9 : 5);
      await answers(m);
      noChanges(m);
    }
  });
});

/** The README's fenced blocks whose info string is `sh <name>`, as lists of command lines. */
function readmeBlocks(readme: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const m of readme.matchAll(/^```sh ([a-z0-9-]+)\n([\s\S]*?)^```$/gm)) {
    out[m[1]] = m[2].split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  }
  return out;
}

function tail(text: string, lines = 40): string {
  return text.split("\n").slice(-lines).join("\n");
}
