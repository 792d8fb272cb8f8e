import { spawn } from "child_process";
import * as fs from "fs";

/** How a service's health port answered while it was polled. */
export interface Outage {
  /** Health requests made, one every 50 ms (each waits up to 1 s). */
  readonly polls: number;
  /** Requests that got no 200. */
  readonly failed: number;
  /** The longest stretch without a 200, from the first failed request to the next good one. */
  readonly longestSeconds: number;
}

// The poller runs as a process of its own: the bench waits on the tools synchronously.
const POLLER = `
const http = require("http"), fs = require("fs");
const [url, file] = process.argv.slice(1);
let polls = 0, failed = 0, down = null, longest = 0;
const finish = () => {
  if (down !== null) longest = Math.max(longest, Date.now() - down);
  fs.writeFileSync(file, JSON.stringify({ polls, failed, longestSeconds: longest / 1000 }));
  process.exit(0);
};
process.on("SIGTERM", finish);
const answered = (good) => {
  polls++;
  if (good) { if (down !== null) { longest = Math.max(longest, Date.now() - down); down = null; } }
  else { failed++; if (down === null) down = Date.now(); }
  setTimeout(poll, 50);
};
const poll = () => {
  let once = false;
  const settle = (good) => { if (!once) { once = true; answered(good); } };
  const req = http.get(url, { agent: false, timeout: 1000 }, (res) => { res.resume(); res.on("end", () => settle(res.statusCode === 200)); });
  req.on("timeout", () => req.destroy(new Error("timeout")));
  req.on("error", () => settle(false));
};
poll();
`;

/**
 * Starts polling `url` (a service's /health) every 50 ms; the function it returns stops the poller
 * and gives what it saw. `file` receives the poller's result.
 */
export function watchHealth(url: string, file: string): () => Outage {
  fs.rmSync(file, { force: true });
  const child = spawn(process.execPath, ["-e", POLLER, url, file], { stdio: "ignore" });
  return () => {
    child.kill("SIGTERM");
    const until = Date.now() + 10_000;
    while (!fs.existsSync(file) && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    if (!fs.existsSync(file)) throw new Error(`the health poller of ${url} wrote nothing to ${file}`);
    return JSON.parse(fs.readFileSync(file, "utf8")) as Outage;
  };
}
