import * as path from "path";
import { familyBuildArgs } from "../components/familyImage";
import { registryExport, reproducibleBuildArgs } from "../components/images";
import { runSpec } from "../components/runSpec";
import { serviceBuildArgs, servicePlan } from "../components/serviceImage";
import { LABELS } from "../contract";
import { ResolvedFleet } from "../stack";

/**
 * The peers' files, generated from the same resolved stack the program deploys, so the comparison
 * never drifts from a hand-kept copy: a `docker buildx bake` file for the image graph and a
 * `docker compose` file for the containers. Pure: paths come out relative to `projectDir`, where
 * the bench writes both files and runs both tools.
 */

/** A bake target, in the JSON form `docker buildx bake -f file.json` reads. */
export interface BakeTarget {
  readonly context: string;
  readonly dockerfile: string;
  /** Named contexts: `FROM <parent>` resolves to the parent target's result; `pip-ca` is the CA's folder. */
  readonly contexts?: Readonly<Record<string, string>>;
  readonly args: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly tags: readonly string[];
  readonly platforms: readonly string[];
  readonly "cache-from": readonly string[];
  readonly "cache-to": readonly string[];
  readonly output: readonly string[];
}

/** A bake file: one target per family and built service, all in the default group. */
export interface BakeFile {
  readonly group: { readonly default: { readonly targets: readonly string[] } };
  readonly target: Readonly<Record<string, BakeTarget>>;
}

/** One compose service, with the container settings the program gives its docker.Container. */
export interface ComposeService {
  readonly image: string;
  readonly user: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly ports: readonly { target: number; published: string; host_ip: string; protocol: string }[];
  readonly networks: Readonly<Record<string, { aliases: string[] }>>;
  readonly healthcheck: { test: readonly string[]; interval: string; timeout: string; retries: number; start_period: string };
  readonly restart: string;
  readonly cap_drop: readonly string[];
  readonly security_opt: readonly string[];
  readonly read_only: boolean;
  readonly tmpfs: readonly string[];
  readonly mem_limit: string;
  readonly pids_limit: number;
  readonly memswap_limit: string;
  readonly cpu_shares: number;
  readonly volumes: readonly { type: "volume"; source: string; target: string }[];
  readonly logging: { driver: string; options: Readonly<Record<string, string>> };
  readonly labels: Readonly<Record<string, string>>;
  readonly depends_on?: Readonly<Record<string, { condition: string }>>;
  readonly deploy?: unknown;
  readonly stop_grace_period: string;
}

/** A compose file: the services, their network and their named data volumes. */
export interface ComposeFile {
  readonly name: string;
  readonly services: Readonly<Record<string, ComposeService>>;
  readonly networks: Readonly<Record<string, { name: string; driver: string; labels: Record<string, string> }>>;
  readonly volumes: Readonly<Record<string, { name: string; labels: Record<string, string> }>>;
}

/** Registry build cache ref of an image repository, as components/images.ts writes it. */
const cacheRef = (repository: string) => `${repository}:buildcache`;

/**
 * The bake file of `fleet`: each family FROM its parent target (a named context standing in for
 * the parent's pushed digest, which bake cannot pass as an argument), each service FROM its family
 * target, with the program's Dockerfiles, locks, build args, labels, tags, `pip-ca` context
 * (`pipCa`, the folder source/stage.ts pipCaContext stages), registry cache and exporter (pushed,
 * reproducible; over plain HTTP when `registryPlainHttp`, registry/trust.ts).
 */
export function bakeFile(fleet: ResolvedFleet, projectDir: string, registryPlainHttp: boolean, pipCa: string): BakeFile {
  const rel = (p: string) => path.relative(projectDir, p) || ".";
  const common = (repository: string, tag: string, labels: Readonly<Record<string, string>>) => ({
    labels: { ...labels },
    tags: [`${repository}:${tag}`],
    platforms: ["linux/amd64"],
    "cache-from": [`type=registry,ref=${cacheRef(repository)}`],
    "cache-to": [`type=registry,ref=${cacheRef(repository)},mode=max,image-manifest=true,oci-mediatypes=true`],
    // The program's exporter: file times rewritten to SOURCE_DATE_EPOCH, the same reproducible
    // images, so both tools do the same work.
    output: [registryExport(`${repository}:${tag}`, registryPlainHttp)],
  });
  const target: Record<string, BakeTarget> = {};
  const dockerfiles = path.join(projectDir, "dockerfiles");
  for (const f of fleet.families) {
    target[f.name] = {
      context: rel(dockerfiles),
      dockerfile: path.relative(dockerfiles, path.join(projectDir, f.dockerfile)),
      contexts: { ...(f.parent ? { [f.parent]: `target:${f.parent}` } : {}), "pip-ca": pipCa },
      args: { ...familyBuildArgs(f, f.parent ?? fleet.baseImage), ...reproducibleBuildArgs() },
      ...common(f.image.repository, f.image.tag, f.image.labels),
    };
  }
  // What the program builds: every service with a source (pinned ones too), and a catalog-building
  // stack's other images.
  for (const s of [...fleet.services, ...fleet.imagesOnly]) {
    if (s.source === null) continue;
    const plan = servicePlan(s);
    const context = path.join(projectDir, s.source);
    target[s.slug] = {
      context: rel(context),
      dockerfile: path.relative(context, path.join(projectDir, "dockerfiles/service.Dockerfile")),
      contexts: { [s.family]: `target:${s.family}`, "pip-ca": pipCa },
      args: { ...serviceBuildArgs(s, s.family), ...reproducibleBuildArgs() },
      ...common(plan.repository, plan.tag, plan.labels),
    };
  }
  return { group: { default: { targets: Object.keys(target) } }, target };
}

/**
 * The compose file of `fleet`: one service per fleet service running the image bake pushed (or
 * the pinned one), with the container's RunSpec (components/runSpec.ts: user, environment, health
 * probe, limits, PIDs limit, read-only root, dropped capabilities) and the program's ports on the
 * stack's bind address, restart policy, network alias, data volume, log options and labels. The fleet's containers depend on nothing but their images, so
 * no service has `depends_on`.
 */
export function composeFile(fleet: ResolvedFleet, project: string): ComposeFile {
  const network = `${project}`;
  const services: Record<string, ComposeService> = {};
  const volumes: ComposeFile["volumes"] = {};
  for (const s of fleet.services) {
    const volume = `${s.slug}-data`;
    (volumes as Record<string, { name: string; labels: Record<string, string> }>)[volume] = { name: `${project}-${volume}`, labels: { [LABELS.service]: s.name } };
    const spec = runSpec(s);
    services[s.slug] = {
      image: s.image.kind === "build" ? `${s.image.repository}:${s.image.tag}` : s.image.kind === "pinned" ? s.image.ref : `${fleet.registry}/${s.slug}`,
      user: spec.user,
      environment: { ...spec.env },
      ports: [s.ports.service, s.ports.health].map((port) => ({ target: port, published: String(port), host_ip: fleet.bindAddress, protocol: "tcp" })),
      networks: { [network]: { aliases: [s.slug] } },
      healthcheck: {
        test: [...spec.health.test],
        interval: `${spec.health.intervalSeconds}s`,
        timeout: `${spec.health.timeoutSeconds}s`,
        retries: spec.health.retries,
        start_period: `${spec.health.startPeriodSeconds}s`,
      },
      restart: "unless-stopped",
      cap_drop: [...spec.capDrop],
      security_opt: [...spec.securityOpts],
      read_only: true,
      tmpfs: Object.entries(spec.tmpfs).map(([dir, opts]) => `${dir}:${opts}`),
      mem_limit: `${spec.memoryMiB}m`,
      memswap_limit: `${spec.memoryMiB}m`,
      pids_limit: spec.pidsLimit,
      cpu_shares: spec.cpuShares,
      volumes: [{ type: "volume", source: volume, target: spec.dataPath }],
      logging: { driver: "json-file", options: { "max-size": "10m", "max-file": "3" } },
      labels: { [LABELS.stack]: fleet.stack, [LABELS.machine]: fleet.machine, [LABELS.service]: s.name },
      stop_grace_period: "10s",
      ...(spec.gpu
        ? {
            deploy: {
              resources: { reservations: { devices: [{ driver: spec.gpu.driver, device_ids: [...spec.gpu.deviceIds], capabilities: [...spec.gpu.capabilities] }] } },
            },
          }
        : {}),
    };
  }
  return {
    name: project,
    services,
    networks: { [network]: { name: network, driver: "bridge", labels: { [LABELS.stack]: fleet.stack } } },
    volumes,
  };
}
