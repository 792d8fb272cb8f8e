import { promises as dns } from "dns";
import * as net from "net";
import { exec } from "../proc";

/**
 * The registry settings of a Docker engine, as `docker info --format '{{json .RegistryConfig}}'`
 * prints them (the fields the rule reads; Docker 20.10 and later).
 */
export interface RegistryConfig {
  /** Networks whose registries are spoken to over plain HTTP; `127.0.0.0/8` unless configured. */
  readonly InsecureRegistryCIDRs?: readonly string[] | null;
  /** Per registry `host[:port]`: `Secure: false` for each one in the engine's insecure-registries. */
  readonly IndexConfigs?: Readonly<Record<string, { readonly Name?: string; readonly Secure?: boolean }>> | null;
}

/** The addresses a host name resolves to (IPv4 and IPv6); empty or a rejection when it does not. */
export type Resolve = (hostname: string) => Promise<readonly string[]>;

/**
 * What the rule follows when the engine cannot be asked: loopback registries only, which is what
 * an engine with no insecure-registries set does (`127.0.0.0/8`), and IPv6's loopback too.
 */
export const LOOPBACK_ONLY: RegistryConfig = { InsecureRegistryCIDRs: ["127.0.0.0/8", "::1/128"], IndexConfigs: {} };

/** Resolves a name as the C library does, so /etc/hosts counts as it does for the engine. */
export const lookupAll: Resolve = async (hostname) => (await dns.lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Whether the fleet speaks plain HTTP to the registry `host` (`host[:port]`, as written in image
 * references), given the registry settings of the engine that runs the stack: Docker's own rule
 * (moby registry/config.go, isSecureIndex), so the engine's pulls and every fleet client agree. A
 * registry listed in the engine's insecure-registries (IndexConfigs, `Secure: false`) is plain
 * HTTP whatever its name; one listed as secure is HTTPS; any other is plain HTTP when one of the
 * addresses its name resolves to lies in InsecureRegistryCIDRs (loopback by default), else HTTPS.
 */
export async function plainHttp(host: string, config: RegistryConfig, resolve: Resolve = lookupAll): Promise<boolean> {
  const index = config.IndexConfigs?.[host];
  if (index) return index.Secure === false;
  const cidrs = new net.BlockList();
  for (const cidr of config.InsecureRegistryCIDRs ?? []) {
    const [network, bits] = cidr.split("/");
    const family = net.isIP(network);
    // An entry the engine printed but this runtime cannot read makes nothing insecure.
    if (family && /^\d+$/.test(bits ?? "")) cidrs.addSubnet(network, Number(bits), family === 6 ? "ipv6" : "ipv4");
  }
  const name = host.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
  // As moby: a name that does not resolve is read as an IP address, else it matches no network.
  const addresses = net.isIP(name) ? [name] : await resolve(name).catch(() => [] as string[]);
  return addresses.some((a) => net.isIP(a) !== 0 && cidrs.check(a, net.isIP(a) === 6 ? "ipv6" : "ipv4"));
}

/** The registry settings the rule used for an engine, and where they came from. */
export interface EngineRegistries {
  readonly config: RegistryConfig;
  /** `docker info of <dockerHost>`, or why the engine could not be asked and loopback-only applies. */
  readonly source: string;
}

const asked = new Map<string, Promise<EngineRegistries>>();

/**
 * The registry settings of the Docker engine at `dockerHost` (fleet:dockerHost), asked once per
 * process: the engine that pulls the stack's images is the one source of truth for which
 * registries are trusted over plain HTTP (`scripts/home-setup.sh` adds one). When it cannot be
 * asked (down, no docker CLI), loopback-only applies and `source` says why; nothing is printed.
 */
export function engineRegistries(dockerHost: string): Promise<EngineRegistries> {
  let answer = asked.get(dockerHost);
  if (!answer) {
    answer = exec("docker", ["info", "--format", "{{json .RegistryConfig}}"], { env: { ...process.env, DOCKER_HOST: dockerHost }, timeoutSeconds: 15 }).then((r): EngineRegistries => {
      const fallback = (why: string) => ({ config: LOOPBACK_ONLY, source: `loopback only: the engine ${dockerHost} could not be asked (${why})` });
      if (r.status !== 0) return fallback((r.stderr.trim().split("\n").pop() || `docker info exited ${r.status}`).trim());
      try {
        const config = JSON.parse(r.stdout) as RegistryConfig | null;
        if (!config || typeof config !== "object") return fallback(`docker info printed ${JSON.stringify(r.stdout.trim())}`);
        return { config, source: `docker info of ${dockerHost}` };
      } catch (e) {
        return fallback(`docker info printed no JSON: ${(e as Error).message}`);
      }
    });
    asked.set(dockerHost, answer);
  }
  return answer;
}

/** Whether the registry `host` is spoken to over plain HTTP, by the rule and the engine at `dockerHost`. */
export async function plainHttpTo(host: string, dockerHost: string): Promise<boolean> {
  return plainHttp(host, (await engineRegistries(dockerHost)).config);
}
