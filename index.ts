import { Fleet } from "./components";
import { loadFleet } from "./config";

const resolved = loadFleet();
const fleet = new Fleet("fleet", { fleet: resolved, projectDir: __dirname });

/** Family name -> pushed `repo@sha256:`. */
export const families = fleet.families;
/** Service name -> image digest ref, container, ports and health URL. */
export const services = fleet.services;
/** The machine and profile this stack runs. */
export const machine = { name: resolved.machine, profile: resolved.profile.name, description: resolved.profile.description };
