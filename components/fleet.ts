import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { contextPaths } from "../source/dockerfile";
import { ContextFile, contextFilesOf, stageContext } from "../source/stage";
import { ResolvedFleet } from "../stack";
import { FamilyImage } from "./familyImage";
import { PrevTag } from "./prevTag";
import { ImageSbom } from "./imageSbom";
import { InventoryReport } from "./inventoryReport";
import { ScanGate } from "./scanGate";
import { ServiceContainer } from "./serviceContainer";
import { ServiceImage } from "./serviceImage";
import { StackImages } from "./stackImages";

/** Arguments of a Fleet. */
export interface FleetArgs {
  /** The resolved stack: what to build and run (see stack/resolve.ts). */
  readonly fleet: ResolvedFleet;
  /** The project directory that dockerfiles/ and service sources are read from. */
  readonly projectDir: string;
}

/** What the stack exports per service. */
export interface ServiceOutput {
  /** The image the container runs, `repo@sha256:...`. */
  readonly image: string;
  /** Its manifest digest, `sha256:...`. */
  readonly digest: string;
  /** The container's name. */
  readonly container: string;
  /** Service and health ports on the host. */
  readonly ports: { readonly service: number; readonly health: number };
  /** Where the service's /health answers. */
  readonly healthUrl: string;
  /** The image's CycloneDX SBOM in the registry, `repo@sha256:...` (`npm run fleet -- sbom` prints it). */
  readonly sbom: string;
  /** How many components the SBOM lists. */
  readonly sbomComponents: number;
  /** Whether the ObservabilityCenter has this digest: "delivered", "failed: <why>" (sent again on the next up), or "no ObservabilityCenter on this stack". */
  readonly reported: string;
}

/**
 * One machine's fleet: family images (parents first), service images built FROM their family by
 * digest, and a container per service on one user-defined network of the stack's Docker host.
 */
export class Fleet extends pulumi.ComponentResource {
  /** Family name -> pushed `repo@sha256:`. */
  public readonly families: pulumi.Output<Record<string, string>>;
  /** Service name -> image, container, ports and health URL. */
  public readonly services: pulumi.Output<Record<string, ServiceOutput>>;
  /** Service name -> `repo@sha256:` of every service image this stack built or runs (what fleet:imagesFrom reads). */
  public readonly images: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: FleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fleet:index:Fleet", name, {}, opts);
    const { fleet, projectDir } = args;
    const child = { parent: this };
    const read = (rel: string) => fs.readFileSync(path.join(projectDir, rel), "utf8");
    const secrets = fleet.pipCaFile ? { "pip-ca": pulumi.secret(fs.readFileSync(fleet.pipCaFile, "utf8")) } : undefined;

    const familyRefs = new Map<string, pulumi.Output<string>>();
    for (const f of fleet.families) {
      const dockerfile = read(f.dockerfile);
      const image = new FamilyImage(
        `${name}-${f.name}`,
        {
          family: f,
          from: f.parent ? familyRefs.get(f.parent)! : fleet.baseImage,
          context: stageContext(familyContext(projectDir, dockerfile, f.lock)),
          dockerfile,
          builder: fleet.builder,
          buildOnPreview: fleet.buildOnPreview,
          secrets,
        },
        child,
      );
      familyRefs.set(f.name, image.ref);
    }

    const provider = new docker.Provider(`${name}-docker`, { host: fleet.dockerHost }, child);
    const labels = { "dev.fleet.stack": fleet.stack, "dev.fleet.machine": fleet.machine };
    const network = new docker.Network(
      `${name}-network`,
      { name: fleet.network, driver: "bridge", labels: Object.entries(labels).map(([label, value]) => ({ label, value })) },
      { ...child, provider },
    );
    const serviceDockerfile = read("dockerfiles/service.Dockerfile");
    const fromStack = fleet.imagesFrom ? new StackImages(`${name}-images-from`, fleet.imagesFrom, child) : undefined;
    const images: Record<string, pulumi.Output<string>> = {};
    const imageOf = (s: (typeof fleet.services)[number]) => {
      // A pinned service's image stays in the graph (unchanged inputs build nothing) while its
      // container runs the pin: a pin deletes no image and a release needs no rebuild.
      const built =
        s.source === null
          ? undefined
          : new ServiceImage(
              `${name}-${s.slug}`,
              {
                service: s,
                family: familyRefs.get(s.family)!,
                context: stageContext(contextFilesOf(path.resolve(projectDir, s.source))),
                dockerfile: serviceDockerfile,
                builder: fleet.builder,
                buildOnPreview: fleet.buildOnPreview,
                secrets,
              },
              child,
            ).ref;
      return (images[s.name] = s.image.kind === "pinned" ? pulumi.output(s.image.ref) : s.image.kind === "stack" ? fromStack!.ref(s.name) : built!);
    };
    for (const s of fleet.imagesOnly) imageOf(s);

    const services: Record<string, pulumi.Output<ServiceOutput>> = {};
    const containers = new Map<string, { container: ServiceContainer; sbom: ImageSbom }>();
    for (const s of fleet.services) {
      const image = imageOf(s);
      // Every digest passes the vulnerability gate before its container is touched, and gets an
      // SBOM (made beside the gate and the canary, not in their way) before it is reported.
      const sbom = new ImageSbom(`${name}-${s.slug}-sbom`, { image, projectDir }, child);
      const gate = new ScanGate(`${name}-${s.slug}-scan`, { service: s.name, image, ...fleet.scan, projectDir }, child);
      const container = new ServiceContainer(
        `${name}-${s.slug}`,
        {
          service: s,
          image,
          prefix: fleet.prefix,
          network: network.name,
          bindAddress: fleet.bindAddress,
          dockerHost: fleet.dockerHost,
          healthTimeoutSeconds: fleet.healthTimeoutSeconds,
          retainVolume: fleet.retainVolumes,
          labels,
          gates: [gate],
        },
        { ...child, provider },
      );
      new PrevTag(`${name}-${s.slug}-prev`, { image }, { ...child, dependsOn: [container] });
      containers.set(s.name, { container, sbom });
    }

    // After a container is healthy on a new digest, the ObservabilityCenter (plan phase 5) is told.
    const center = fleet.services.find((s) => s.name === OBSERVABILITY_CENTER);
    for (const s of fleet.services) {
      const { container, sbom } = containers.get(s.name)!;
      const sent = center
        ? new InventoryReport(
            `${name}-${s.slug}-report`,
            {
              url: `http://${fleet.bindAddress === "0.0.0.0" ? "127.0.0.1" : fleet.bindAddress}:${center.ports.service}/sbom`,
              service: s.name,
              machine: fleet.machine,
              stack: fleet.stack,
              image: container.image,
              projectDir,
            },
            { ...child, dependsOn: [container, sbom, containers.get(center.name)!.container] },
          )
        : undefined;
      const report = sent
        ? pulumi.all([sent.delivered, sent.error]).apply(([ok, error]) => (ok ? "delivered" : `failed: ${error}; sent again on the next up`))
        : pulumi.output(`no ${OBSERVABILITY_CENTER} on this stack`);
      services[s.name] = pulumi
        .all([container.image, container.containerName, container.healthUrl, sbom.artifact, sbom.components, report])
        .apply(([img, cname, healthUrl, sbomRef, components, reported]) => ({
          image: img,
          digest: img.slice(img.lastIndexOf("@") + 1),
          container: cname,
          ports: s.ports,
          healthUrl,
          sbom: sbomRef,
          sbomComponents: components,
          reported,
        }));
    }

    this.families = pulumi.all(Object.fromEntries(familyRefs));
    this.services = pulumi.all(services);
    this.images = pulumi.all(images);
    this.registerOutputs({ families: this.families, services: this.services, images: this.images });
  }
}

/** The service that receives every service's SBOM and digest (plan phase 5). */
const OBSERVABILITY_CENTER = "UnifiedObservabilityCenter";

/** The files a family build reads: what its Dockerfile COPYs from dockerfiles/, and its .dockerignore. */
export function familyContext(projectDir: string, dockerfile: string, lock: string): ContextFile[] {
  const root = path.join(projectDir, "dockerfiles");
  const wanted = new Set([...contextPaths(dockerfile, { LOCK: lock }), ".dockerignore"]);
  return contextFilesOf(root).filter((f) => [...wanted].some((w) => w === "." || f.rel === w || f.rel.startsWith(`${w}/`)));
}
