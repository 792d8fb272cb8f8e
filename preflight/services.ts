import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { ResolvedFleet } from "../stack";
import { parseImageRef, parsePinnedRef, Registry } from "../registry";
import { request } from "./http";

const NOTHING = "nothing was changed";

/**
 * Checks, before `pulumi up` touches anything, that what the update needs answers: the stack's
 * Docker engine, its registry (and the pinned base image in it), and the BuildKit builder when
 * something is built. Returns one line per problem, naming what is down and how to bring it up.
 */
export async function serviceProblems(fleet: ResolvedFleet): Promise<string[]> {
  const problems: string[] = [];
  const engine = await engineAnswer(fleet.dockerHost);
  if (engine) problems.push(`the Docker engine ${fleet.dockerHost} does not answer (${engine}); start it (\`npm run infra\` on this machine) and run the update again; ${NOTHING}`);

  // Plain HTTP or HTTPS as the stack's engine trusts the registry (registry/trust.ts).
  const { host } = parseImageRef(fleet.registry);
  const registry = await Registry.of(host, fleet.dockerHost, 5000);
  const answer = await registry.ping();
  if ("error" in answer) {
    problems.push(`the registry ${host} (fleet:registry ${fleet.registry}) does not answer (GET ${registry.base}/v2/: ${answer.error}); images are pushed to and pulled from it: start it (\`npm run infra\` on this machine) and run the update again; ${NOTHING}`);
  } else if (answer.status === 200 && fleet.families.length > 0) {
    // The base image may live in another registry than fleet:registry; ask the one it names.
    const base = parsePinnedRef(fleet.baseImage).host === host ? registry : await Registry.of(parsePinnedRef(fleet.baseImage).host, fleet.dockerHost, 5000);
    const head = await base.check(fleet.baseImage);
    if ("status" in head && head.status === 404) {
      problems.push(`the base image ${fleet.baseImage} is not in the registry ${host}; make it there with \`npm run infra\` (this machine's local registry) or \`npm run fleet -- base --stack ${fleet.stack}\`, and run the update again; ${NOTHING}`);
    }
  }

  const bind = bindProblem(fleet);
  if (bind) problems.push(bind);

  const builds = fleet.families.length > 0 || fleet.services.some((s) => s.image.kind === "build");
  const builder = builds ? await builderAnswer(fleet.builder) : undefined;
  if (builder) problems.push(builder);
  return problems;
}

/** Why the Docker engine at `dockerHost` does not answer its API's /_ping, or undefined when it does. */
async function engineAnswer(dockerHost: string): Promise<string | undefined> {
  const [scheme, rest] = dockerHost.split("://");
  // An ssh:// engine is reached through the docker CLI's own connection; the provider reports it.
  if (scheme !== "unix" && scheme !== "tcp") return undefined;
  const answer = scheme === "unix" ? await request("http://engine/_ping", { socketPath: rest }) : await request(`http://${rest}/_ping`);
  return "error" in answer ? answer.error : answer.status === 200 ? undefined : `/_ping answered ${answer.status}`;
}

/**
 * Why the buildx builder `name` cannot build, or undefined when it can or cannot be checked from
 * here. A builder whose BuildKit listens on a unix socket (the remote driver `npm run infra`
 * registers) is checked by connecting to it.
 */
async function builderAnswer(name: string): Promise<string | undefined> {
  const file = path.join(process.env.DOCKER_CONFIG ?? path.join(os.homedir(), ".docker"), "buildx", "instances", name);
  if (!fs.existsSync(file)) return `no buildx builder named "${name}" (fleet:builder) is registered (${file} does not exist); \`npm run infra\` registers the local one; ${NOTHING}`;
  let endpoint: string | undefined;
  try {
    endpoint = (JSON.parse(fs.readFileSync(file, "utf8")) as { Nodes?: { Endpoint?: string }[] }).Nodes?.[0]?.Endpoint;
  } catch {
    return undefined;
  }
  if (!endpoint?.startsWith("unix://")) return undefined;
  const socket = endpoint.slice("unix://".length);
  const up = await new Promise<string | undefined>((resolve) => {
    const conn = net.connect(socket, () => {
      conn.destroy();
      resolve(undefined);
    });
    conn.on("error", (e) => resolve(e.message));
  });
  return up ? `the BuildKit daemon of builder "${name}" at ${endpoint} does not answer (${up}); start it (\`npm run infra\` on this machine) and run the update again; ${NOTHING}` : undefined;
}

/**
 * Why the engine could not publish on fleet:bindAddress, or undefined: an engine on this machine
 * (a unix socket) can only bind an address one of this machine's interfaces has. Any loopback
 * address works on Linux; an engine elsewhere is not checked from here.
 */
function bindProblem(fleet: ResolvedFleet): string | undefined {
  if (!fleet.dockerHost.startsWith("unix://") || fleet.bindAddress === "0.0.0.0" || fleet.bindAddress.startsWith("127.")) return undefined;
  const mine = Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
  return mine.includes(fleet.bindAddress)
    ? undefined
    : `fleet:bindAddress ${fleet.bindAddress} is not an address of this machine (it has ${mine.filter((a) => a.includes(".")).join(", ")}); set the machine's LAN address in ${fleet.stackFile}; ${NOTHING}`;
}
