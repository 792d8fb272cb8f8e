import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FLEET_CACHE, run } from "../test/support/engine";

/**
 * The bench's own BuildKit daemon, beside the shared one `npm run infra` starts: the bench empties
 * its cache for every cold run, which it must never do to what other people's tests are using
 * (its Docker engine is scripts/engine.sh's, through testStack). It has that script's layout
 * (data under $FLEET_CACHE/instances/buildkit-NAME, socket and pid file under
 * /run/fleet/buildkit-NAME) plus the shared builder's plain-HTTP registry setting, and can be
 * started on an empty cache.
 */
export interface Instance {
  /** `unix://...` address of its socket. */
  readonly address: string;
  /** Stops it (SIGTERM, then SIGKILL after 60 s). */
  stop(): void;
}

const dirs = (kind: string, name: string) => ({ data: path.join(FLEET_CACHE, "instances", `${kind}-${name}`), run: `/run/fleet/${kind}-${name}` });

/**
 * A BuildKit daemon of the bench's own, registered as the buildx builder `name`, with the shared
 * one's settings (OCI worker, host network, the plain-HTTP registry on 127.0.0.1:5000). `empty`
 * starts it on an empty cache: the state of a machine that never built anything.
 */
export async function buildkit(name: string, opts: { empty: boolean }): Promise<Instance> {
  const { data, run: runDir } = dirs("buildkit", name);
  const address = `unix://${runDir}/buildkitd.sock`;
  const buildctl = path.join(FLEET_CACHE, "bin", "buildctl");
  const answers = () => run(buildctl, ["--addr", address, "debug", "workers"], { cwd: os.tmpdir(), timeoutSeconds: 20 }).status === 0;
  if (opts.empty) {
    stopPid(path.join(runDir, "pid"));
    fs.rmSync(path.join(data, "root"), { recursive: true, force: true });
  }
  const instance = await start("buildkit", name, answers, address, () => {
    fs.rmSync(`${runDir}/buildkitd.sock`, { force: true });
    fs.mkdirSync(data, { recursive: true });
    fs.writeFileSync(
      path.join(data, "buildkitd.toml"),
      [
        `root = "${data}/root"`,
        `[grpc]`,
        `  address = ["${address}"]`,
        `[worker.oci]`,
        `  enabled = true`,
        `  binary = "/usr/sbin/runc"`,
        `  snapshotter = "overlayfs"`,
        `  networkMode = "host"`,
        `  gc = true`,
        `[worker.containerd]`,
        `  enabled = false`,
        `[registry."127.0.0.1:5000"]`,
        `  http = true`,
        `  insecure = true`,
        "",
      ].join("\n"),
    );
    return [path.join(FLEET_CACHE, "bin", "buildkitd"), "--config", path.join(data, "buildkitd.toml")];
  });
  const store = path.join(process.env.DOCKER_CONFIG ?? path.join(os.homedir(), ".docker"), "buildx", "instances");
  fs.mkdirSync(store, { recursive: true });
  fs.writeFileSync(path.join(store, name), `${JSON.stringify({ Name: name, Driver: "remote", Nodes: [{ Name: `${name}0`, Endpoint: address }], Dynamic: false })}\n`);
  return instance;
}

async function start(kind: string, name: string, answers: () => boolean, address: string, command: () => string[]): Promise<Instance> {
  const { run: runDir } = dirs(kind, name);
  const pidFile = path.join(runDir, "pid");
  const stop = () => stopPid(pidFile);
  if (answers()) return { address, stop };
  stop();
  fs.mkdirSync(runDir, { recursive: true });
  const logFile = path.join(FLEET_CACHE, "log", `${kind}-${name}.log`);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = fs.openSync(logFile, "a");
  const [cmd, ...args] = command();
  const child = spawn(cmd, args, { detached: true, stdio: ["ignore", log, log] });
  child.unref();
  fs.writeFileSync(pidFile, String(child.pid));
  for (let i = 0; i < 240; i++) {
    if (answers()) return { address, stop };
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${kind} ${name} did not answer on ${address} within 60 s (log: ${logFile})`);
}

function stopPid(pidFile: string): void {
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, "utf8"));
  // A daemon this process started and that has exited stays a zombie until Node reaps it, which
  // it cannot do while this loop blocks: a zombie counts as stopped.
  const alive = () => {
    try {
      process.kill(pid, 0);
    } catch {
      return false;
    }
    const stat = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, "utf8") : "";
    return !/^\d+ \(.*\) Z/.test(stat);
  };
  if (pid > 0 && alive()) {
    process.kill(pid, "SIGTERM");
    const until = Date.now() + 60_000;
    while (alive() && Date.now() < until) spawnSleep(0.25);
    if (alive()) process.kill(pid, "SIGKILL");
    while (alive()) spawnSleep(0.1);
  }
  fs.rmSync(pidFile, { force: true });
}

function spawnSleep(seconds: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
}
