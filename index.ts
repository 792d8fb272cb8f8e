import { Fleet, keepDeclarationSitesOnly } from "./components";
import { loadFleet } from "./config";
import { preflight } from "./preflight";
import { markPhase } from "./timings";

markPhase("program-loaded");

export = async () => {
  const resolved = loadFleet();
  markPhase("stack-resolved");
  await preflight(resolved);
  markPhase("preflight-done");
  keepDeclarationSitesOnly();
  const fleet = new Fleet("fleet", { fleet: resolved, projectDir: __dirname });
  markPhase("resources-declared");
  return {
    /** Family name -> pushed `repo@sha256:`. */
    families: fleet.families,
    /** Service name -> image digest ref, container, ports and health URL. */
    services: fleet.services,
    /** Service name -> `repo@sha256:` of every service image built (or run) here: what fleet:imagesFrom reads. */
    images: fleet.images,
    /** The machine and profile this stack runs. */
    machine: { name: resolved.machine, profile: resolved.profile.name, description: resolved.profile.description },
  };
};
