import { strict as assert } from "assert";
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { REPO } from "../support/project";

/**
 * The stack's ports' forwarder (components/stackPorts.py), run on this machine's Python as the
 * ports container runs it, with `localhost` as the alias: the upstreams are servers of the test.
 */
describe("the stack's ports: the forwarder", function () {
  this.timeout(30_000);
  const running: ChildProcess[] = [];
  const servers: net.Server[] = [];

  /** A free port of this machine. */
  const freePort = () =>
    new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    });

  /** An upstream on a free port: `answer` handles each connection it accepts (the connection's number from 1). */
  const upstream = async (answer: (socket: net.Socket, n: number) => void) => {
    const port = await freePort();
    let n = 0;
    const server = net.createServer((socket) => answer(socket, ++n));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    return port;
  };

  /** The forwarder listening on a free port of its own and passing it to localhost:`to`; resolves once it listens. */
  const forwarder = async (to: number) => {
    const port = await freePort();
    const script = fs.readFileSync(path.join(REPO, "components/stackPorts.py"), "utf8");
    const child = spawn("python3", ["-c", script, `${port}=localhost:${to}`], { stdio: ["ignore", "pipe", "inherit"] });
    running.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (d: Buffer) => d.toString().includes("forwarding") && resolve());
      child.on("exit", (code) => reject(new Error(`the forwarder exited ${code}`)));
    });
    return { port, pid: child.pid! };
  };

  /** What a client that sends `request` and ends receives, to the end. */
  const ask = (port: number, request: string) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const c = net.connect(port, "127.0.0.1", () => c.end(request));
      c.on("data", (d) => chunks.push(d));
      c.on("close", () => resolve(Buffer.concat(chunks).toString()));
      c.on("error", reject);
    });

  /** Seconds of CPU the process has used (user and system), from /proc. */
  const cpuSeconds = (pid: number) => {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };

  afterEach(() => {
    for (const c of running.splice(0)) c.kill("SIGKILL");
    for (const s of servers.splice(0)) s.close();
  });

  it("passes a request to the alias and the answer back", async () => {
    const to = await upstream((socket) => socket.on("data", (d) => socket.end(`echo ${d}`)));
    const { port } = await forwarder(to);
    assert.equal(await ask(port, "ping"), "echo ping");
  });

  it("sends a request again when a container closed it without a byte of answer (one being stopped)", async () => {
    const to = await upstream((socket, n) => (n === 1 ? socket.destroy() : socket.on("data", (d) => socket.end(`second: ${d}`))));
    const { port } = await forwarder(to);
    assert.equal(await ask(port, "GET /health"), "second: GET /health");
  });

  it("idles after a port check that sends nothing, which every container closes", async () => {
    // Docker's health check of the ports container: connect, then close. A forwarder that sent
    // such a connection on again and again kept a core busy.
    const to = await upstream((socket) => socket.destroy());
    const { port, pid } = await forwarder(to);
    assert.equal(await ask(port, ""), "");
    const before = cpuSeconds(pid);
    await new Promise((r) => setTimeout(r, 2000));
    const used = cpuSeconds(pid) - before;
    assert.ok(used < 0.2, `the forwarder used ${used.toFixed(2)} s of CPU in the 2 s after one port check (at most 0.2 s)`);
  });
});
