import * as fs from "fs";
import * as path from "path";
import { familyBuildArgs } from "../../components/familyImage";
import { familyContext, serviceContext } from "../../source/inputs";
import { registryExport, reproducibleBuildArgs } from "../../components/images";
import { LOOPBACK_ONLY, parseImageRef, plainHttp } from "../../registry";
import { serviceBuildArgs } from "../../components/serviceImage";
import { stageContext } from "../../source/stage";
import { ResolvedFleet, resolveStack } from "../../stack";
import { buildAndPush, BuiltImage } from "./docker";
import { REPO } from "./project";

/**
 * Builds of a resolved fleet's images through buildctl with exactly what the Pulumi program gives
 * docker-build (the same functions): build args with SOURCE_DATE_EPOCH, labels, staged contexts and
 * the one registry exporter. For the tests that need many builders or no Pulumi engine.
 */

/** Stack `stack` of this checkout, with `overrides` over its `fleet:` config (engine form). */
export function fleetOf(stack: string, overrides: Readonly<Record<string, string>>): ResolvedFleet {
  return resolveStack(REPO, stack, { overrides });
}

/**
 * Builds the fleet's families (parents first) and then its services' images, plus those it
 * builds for other machines, on the BuildKit daemon at `addr`. `only` narrows the services.
 * Returns image title (family or service name) -> pushed image.
 */
export async function buildFleet(fleet: ResolvedFleet, addr: string, log: (line: string) => void, only?: (service: string) => boolean): Promise<Map<string, BuiltImage>> {
  const built = new Map<string, BuiltImage>();
  const build = async (title: string, plan: ResolvedFleet["families"][number]["image"], context: string, dockerfile: string, args: Record<string, string>) => {
    const name = `${plan.repository}:${plan.tag}`;
    // These builds push to a registry on this machine, which any engine trusts over plain HTTP.
    const output = registryExport(name, await plainHttp(parseImageRef(name).host, LOOPBACK_ONLY));
    const image = await buildAndPush({ addr, context, dockerfile, name, buildArgs: { ...args, ...reproducibleBuildArgs() }, labels: plan.labels, output });
    log(`${title}: ${image.digest} (${image.seconds.toFixed(1)} s)`);
    built.set(title, image);
    return image.ref;
  };
  const services = [...fleet.services, ...fleet.imagesOnly].filter((s) => !only || only(s.name));
  const needed = new Set<string>();
  for (const s of services) for (let f: string | null = s.family; f; f = fleet.families.find((x) => x.name === f)!.parent) needed.add(f);
  const refs = new Map<string, string>();
  for (const f of fleet.families.filter((x) => needed.has(x.name))) {
    const from = f.parent ? refs.get(f.parent)! : fleet.baseImage;
    const dockerfile = path.join(REPO, f.dockerfile);
    const context = stageContext(familyContext(REPO, fs.readFileSync(dockerfile, "utf8"), f.lock));
    refs.set(f.name, await build(f.name, f.image, context, dockerfile, familyBuildArgs(f, from)));
  }
  for (const s of services) {
    if (s.image.kind !== "build") throw new Error(`${s.name}: the stack does not build its image`);
    const context = stageContext(serviceContext(REPO, s.source!));
    await build(s.name, s.image, context, path.join(REPO, "dockerfiles", "service.Dockerfile"), serviceBuildArgs(s, refs.get(s.family)!));
  }
  return built;
}
