import { Fleet, keepDeclarationSitesOnly } from "./components";
import { loadFleet, loadPartial } from "./config";
import { FLEET_NAME } from "./contract";
import { preflight } from "./preflight";
import { markPhase } from "./timings";

markPhase("program-loaded");

export = async () => {
  const resolved = loadFleet();
  const partial = loadPartial(resolved);
  markPhase("stack-resolved");
  await preflight(resolved);
  markPhase("preflight-done");
  keepDeclarationSitesOnly();
  const fleet = new Fleet(FLEET_NAME, { fleet: resolved, projectDir: __dirname, partial });
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
