import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "fs";
import * as path from "path";
import { LABELS, TYPES } from "../contract";
import { engineRegistries, parseImageRef, plainHttp, RegistryConfig } from "../registry";
import { familyContext, serviceContext } from "../source/inputs";
import { pipCaContext, stageContext, stageDockerfile } from "../source/stage";
import { PartialUpdate } from "../partial";
import { ResolvedFleet, ResolvedService, SERVICE_DOCKERFILE } from "../stack";
import { FamilyImage } from "./familyImage";
import { PrevTag } from "./prevTag";
import { ImageSbom } from "./imageSbom";
import { InventoryReport } from "./inventoryReport";
import { ScanGate } from "./scanGate";
import { ServiceContainer } from "./serviceContainer";
import { StackPorts } from "./stackPorts";
import { ImageBuildArgs } from "./images";
import { ServiceImage } from "./serviceImage";
import { StackImages } from "./stackImages";

/** Arguments of a Fleet. */
export interface FleetArgs {
  /** The resolved stack: what to build and run (see stack/resolve.ts). */
  readonly fleet: ResolvedFleet;
  /** The project directory that dockerfiles/ and service sources are read from. */
  readonly projectDir: string;
  /** The registry settings of the stack's engine, which decide plain HTTP (registry/trust.ts). Defaults to asking the engine at fleet:dockerHost. */
  readonly engineRegistries?: RegistryConfig;
  /** Declare only what runs these services, on their pins, and carry the other outputs over (partial.ts). Defaults to the whole fleet. */
  readonly partial?: PartialUpdate;
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
  /** The options every child starts from. */
  private readonly child: pulumi.CustomResourceOptions = { parent: this };

  constructor(name: string, args: FleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super(TYPES.fleet, name, {}, opts);
    const { fleet, partial } = args;
    // A partial update builds nothing: its services run their pins.
    const sources = partial ? undefined : this.imageSources(name, args);
    const engine = this.engine(name, fleet);

    const images = new Map<string, ServiceImages>();
    if (sources) for (const s of fleet.imagesOnly) images.set(s.name, this.serviceImage(name, args, sources, s));
    const running = new Map<string, RunningService>();
    for (const s of fleet.services) {
      if (partial && !partial.services.includes(s.name)) continue;
      const image = sources ? this.serviceImage(name, args, sources, s) : pinnedImage(s, partial!);
      images.set(s.name, image);
      running.set(s.name, this.runService(name, args, engine, s, image.runs));
    }
    // A partial update keeps the stack's ports as they are (it does not target them).
    const ports = partial || fleet.services.length === 0 ? undefined : this.ports(name, args, engine, sources!);
    const services = pulumi.all(this.reportServices(name, args, images, running, ports));
    const runs = pulumi.all(Object.fromEntries([...images].map(([service, image]) => [service, image.runs])));

    if (partial) {
      // Outputs are written whole even by a targeted update: every other service keeps its entry.
      const before = partial.outputs;
      this.families = pulumi.output({ ...before.families });
      this.services = services.apply((s) => ({ ...(before.services as Record<string, ServiceOutput>), ...s }));
      this.images = runs.apply((i) => ({ ...before.images, ...i }));
    } else {
      this.families = pulumi.all(Object.fromEntries(sources!.families));
      this.services = services;
      this.images = runs;
    }
    this.registerOutputs({ families: this.families, services: this.services, images: this.images });
  }

  /** The family images, parents first, each FROM its parent's digest (the root FROM the base): family -> `repo@sha256:`. */
  private familyImages(name: string, args: FleetArgs, build: BuildSettings): Map<string, pulumi.Output<string>> {
    const { fleet, projectDir } = args;
    const refs = new Map<string, pulumi.Output<string>>();
    for (const f of fleet.families) {
      const dockerfile = path.join(projectDir, f.dockerfile);
      const image = new FamilyImage(
        `${name}-${f.name}`,
        {
          family: f,
          from: f.parent ? refs.get(f.parent)! : fleet.baseImage,
          context: stageContext(familyContext(projectDir, fs.readFileSync(dockerfile, "utf8"), f.lock)),
          dockerfile: stageDockerfile(dockerfile),
          ...build,
        },
        this.child,
      );
      refs.set(f.name, image.ref);
    }
    return refs;
  }

  /** The stack's Docker provider and its user-defined network, labelled with the stack and machine. */
  private engine(name: string, fleet: ResolvedFleet): Engine {
    const provider = new docker.Provider(`${name}-docker`, { host: fleet.dockerHost }, this.child);
    const labels = { [LABELS.stack]: fleet.stack, [LABELS.machine]: fleet.machine };
    const network = new docker.Network(
      `${name}-network`,
      { name: fleet.network, driver: "bridge", labels: Object.entries(labels).map(([label, value]) => ({ label, value })) },
      { ...this.child, provider },
    );
    return { provider, network, labels };
  }

  /** The stack's host ports, run on the root family's image (or the first service's, on a stack that has no family image). */
  private ports(name: string, args: FleetArgs, engine: Engine, sources: ImageSources): StackPorts {
    const { fleet } = args;
    const root = fleet.rootFamily;
    const first = fleet.services[0].image;
    // A stack that builds no family and takes no stack's images runs pinned images only.
    const image = sources.families.get(root) ?? sources.fromStack?.family(root) ?? (first.kind === "pinned" ? first.ref : undefined);
    if (!image) throw new Error(`fleet: stack ${fleet.stack} has no image to run its ports on: it builds no family image, takes no stack's images and ${fleet.services[0].name} is not pinned`);
    return new StackPorts(
      `${name}-ports`,
      { services: fleet.services, image, prefix: fleet.prefix, network: engine.network.name, bindAddress: fleet.bindAddress, dockerHost: fleet.dockerHost, labels: engine.labels },
      { ...this.child, provider: engine.provider },
    );
  }

  /** What service images are made from: the build settings, the shared service Dockerfile, the family images, and the stack that builds them (fleet:imagesFrom). */
  private imageSources(name: string, args: FleetArgs): ImageSources {
    const build = buildSettings(args);
    const families = this.familyImages(name, args, build);
    const dockerfile = stageDockerfile(path.join(args.projectDir, SERVICE_DOCKERFILE));
    const fromStack = args.fleet.imagesFrom ? new StackImages(`${name}-images-from`, args.fleet.imagesFrom, this.child) : undefined;
    return { build, dockerfile, families, fromStack };
  }

  /** A service's image: built from its source when this stack builds it; run as built, as pinned, or as the images stack has it. */
  private serviceImage(name: string, args: FleetArgs, sources: ImageSources, s: ResolvedService): ServiceImages {
    const { projectDir } = args;
    // A pinned service's image stays in the graph (unchanged inputs build nothing) while its
    // container runs the pin: a pin deletes no image and a release needs no rebuild.
    const built =
      s.source === null
        ? undefined
        : new ServiceImage(
            `${name}-${s.slug}`,
            {
              service: s,
              family: sources.families.get(s.family)!,
              context: stageContext(serviceContext(projectDir, s.source)),
              dockerfile: sources.dockerfile,
              ...sources.build,
            },
            this.child,
          ).ref;
    const runs = s.image.kind === "pinned" ? pulumi.output(s.image.ref) : s.image.kind === "stack" ? sources.fromStack!.ref(s.name) : built!;
    return { runs, built };
  }

  /** A service's vulnerability gate, SBOM, container and `:prev` tag on the stack's engine. */
  private runService(name: string, args: FleetArgs, engine: Engine, s: ResolvedService, image: pulumi.Output<string>): RunningService {
    const { fleet } = args;
    // Every digest passes the vulnerability gate before its container is touched.
    const gate = new ScanGate(`${name}-${s.slug}-scan`, { service: s.name, image, ...fleet.scan, dockerHost: fleet.dockerHost }, this.child);
    const container = new ServiceContainer(
      `${name}-${s.slug}`,
      {
        service: s,
        image,
        prefix: fleet.prefix,
        network: engine.network.name,
        bindAddress: fleet.bindAddress,
        dockerHost: fleet.dockerHost,
        healthTimeoutSeconds: fleet.healthTimeoutSeconds,
        retainVolume: fleet.retainVolumes,
        labels: engine.labels,
        gates: [gate],
      },
      { ...this.child, provider: engine.provider },
    );
    // Its SBOM is made once the container answers, not beside it: syft takes the cores for tens of
    // seconds, and a replaced service starting beside it stayed unreachable 5.4 s instead of 1.5 s
    // (npm run bench, one service changed). The report waits for the SBOM.
    const sbom = new ImageSbom(`${name}-${s.slug}-sbom`, { image, dockerHost: fleet.dockerHost }, { ...this.child, dependsOn: [container] });
    new PrevTag(`${name}-${s.slug}-prev`, { image, dockerHost: fleet.dockerHost }, { ...this.child, dependsOn: [container] });
    return { container, sbom };
  }

  /** What each service exports, once the ObservabilityCenter (plan phase 5) is told of its healthy digest. */
  private reportServices(name: string, args: FleetArgs, images: ReadonlyMap<string, ServiceImages>, running: ReadonlyMap<string, RunningService>, ports: StackPorts | undefined): Record<string, pulumi.Output<ServiceOutput>> {
    const { fleet } = args;
    const center = fleet.services.find((s) => s.name === OBSERVABILITY_CENTER);
    const services: Record<string, pulumi.Output<ServiceOutput>> = {};
    for (const s of fleet.services.filter((x) => running.has(x.name))) {
      const reported = center ? this.inventoryReport(name, args, s, images.get(s.name)!.built, running, center, ports) : pulumi.output(`no ${OBSERVABILITY_CENTER} on this stack`);
      services[s.name] = serviceOutput(s, running.get(s.name)!, reported);
    }
    return services;
  }

  /** Tells the ObservabilityCenter (through the stack's ports) a service's digest and SBOM once its container is healthy; resolves to what became of it. */
  private inventoryReport(name: string, args: FleetArgs, s: ResolvedService, built: pulumi.Output<string> | undefined, running: ReadonlyMap<string, RunningService>, center: ResolvedService, ports: StackPorts | undefined): pulumi.Output<string> {
    const { fleet } = args;
    const { container, sbom } = running.get(s.name)!;
    const sent = new InventoryReport(
      `${name}-${s.slug}-report`,
      {
        url: `http://${fleet.bindAddress === "0.0.0.0" ? "127.0.0.1" : fleet.bindAddress}:${center.ports.service}/sbom`,
        service: s.name,
        machine: fleet.machine,
        stack: fleet.stack,
        image: container.image,
        inputs: inputsOf(s, built),
        commit: fleet.commit,
        dockerHost: fleet.dockerHost,
      },
      // The center's container, when this update runs it (a partial update may not: it is running already).
      { ...this.child, dependsOn: [container, sbom, ...(running.has(center.name) ? [running.get(center.name)!.container] : []), ...(ports ? [ports] : [])] },
    );
    return pulumi.all([sent.delivered, sent.error]).apply(([ok, error]) => (ok ? "delivered" : `failed: ${error}; sent again on the next up`));
  }
}

/** What every image build of the stack shares besides its context and Dockerfile. */
type BuildSettings = Omit<ImageBuildArgs, "context" | "dockerfile">;

/** The stack's builder, the pip-ca context, and whether pushes speak plain HTTP to its registry. */
function buildSettings(args: FleetArgs): BuildSettings {
  const { fleet } = args;
  // Pushes speak plain HTTP to the registry exactly when the engine that pulls from it does.
  const registries = args.engineRegistries ? Promise.resolve(args.engineRegistries) : engineRegistries(fleet.dockerHost).then((e) => e.config);
  const registryPlainHttp = pulumi.output(registries.then((c) => plainHttp(parseImageRef(fleet.registry).host, c)));
  return { builder: fleet.builder, buildOnPreview: fleet.buildOnPreview, pipCa: pipCaContext(fleet.pipCaFile), registryPlainHttp };
}

/** The stack's Docker engine as the containers use it. */
interface Engine {
  readonly provider: docker.Provider;
  /** The stack's user-defined network (CIS 5.30). */
  readonly network: docker.Network;
  /** The labels that name the stack and machine, on the network and everything of each container. */
  readonly labels: Readonly<Record<string, string>>;
}

/** What service images are made from. */
interface ImageSources {
  /** What every image build of the stack shares. */
  readonly build: BuildSettings;
  /** dockerfiles/service.Dockerfile, staged (stageDockerfile). */
  readonly dockerfile: string;
  /** Family -> `repo@sha256:` of its image. */
  readonly families: ReadonlyMap<string, pulumi.Output<string>>;
  /** The images of the stack that builds them (fleet:imagesFrom), when this one builds none. */
  readonly fromStack?: StackImages;
}

/** A service's images: the one its container runs, and the one this stack built from its source. */
interface ServiceImages {
  /** `repo@sha256:` the container runs: the built one, the pin, or the images stack's. */
  readonly runs: pulumi.Output<string>;
  /** `repo@sha256:` built from the service's source here; absent on a stack that builds no image of it. */
  readonly built?: pulumi.Output<string>;
}

/** A pinned service's images in a partial update: its pin, and what the stack last built from its source (none declared). */
function pinnedImage(s: ResolvedService, partial: PartialUpdate): ServiceImages {
  if (s.image.kind !== "pinned") throw new Error(`${s.name}: a partial update runs pinned services only`);
  const built = partial.built[s.name];
  return { runs: pulumi.output(s.image.ref), built: built === undefined ? undefined : pulumi.output(built) };
}

/** A service's container and the SBOM of the image it runs. */
interface RunningService {
  readonly container: ServiceContainer;
  readonly sbom: ImageSbom;
}

/** What the stack exports for a service, once its container, SBOM and report are settled. */
function serviceOutput(s: ResolvedService, { container, sbom }: RunningService, reported: pulumi.Output<string>): pulumi.Output<ServiceOutput> {
  return pulumi.all([container.image, container.containerName, container.healthUrl, sbom.artifact, sbom.components, reported]).apply(([img, cname, healthUrl, sbomRef, components, reportedAs]) => ({
    image: img,
    digest: img.slice(img.lastIndexOf("@") + 1),
    container: cname,
    ports: s.ports,
    healthUrl,
    sbom: sbomRef,
    sbomComponents: components,
    reported: reportedAs,
  }));
}

/**
 * The inputs digest of the image a service runs, as its report names it: the plan's when this stack
 * builds that image, a pin to the digest the source builds included; "pinned" for another forced
 * digest and "unknown" for one another stack built, whose inputs the plan does not know.
 */
function inputsOf(s: ResolvedFleet["services"][number], built: pulumi.Output<string> | undefined): pulumi.Input<string> {
  const { image } = s;
  if (image.kind === "build") return image.provenance.inputs;
  if (image.kind === "stack") return "unknown";
  const plan = image.build;
  return plan && built ? built.apply((ref) => (ref === image.ref ? plan.provenance.inputs : "pinned")) : "pinned";
}

/** The service that receives every service's SBOM and digest (plan phase 5). */
const OBSERVABILITY_CENTER = "UnifiedObservabilityCenter";
