import { z } from "zod";
import { FleetInputError, parseWith, problem } from "../errors";
import { CatalogService, Family, familySchema, Machine, Service, serviceSchema } from "./types";
import { FAMILIES } from "./families";
import { SERVICES } from "./services";

/** The validated catalog: families in build order (parents first) and services with their GPU need. */
export interface Catalog {
  /** Families, every parent before its children. */
  readonly families: readonly Family[];
  /** Services in catalog order. */
  readonly services: readonly CatalogService[];
}

/** Whether a service placed at `placement` runs on `machine`. A local stack stands in for both. */
export function runsOn(placement: Service["placement"], machine: Machine): boolean {
  return machine === "local" || placement === "both" || placement === machine;
}

/** The chain of families from `name` up to its root, `name` first. */
export function lineage(families: readonly Family[], name: string): Family[] {
  const byName = new Map(families.map((f) => [f.name, f]));
  const chain: Family[] = [];
  for (let cur = byName.get(name); cur; cur = cur.parent ? byName.get(cur.parent) : undefined) {
    chain.push(cur);
  }
  return chain;
}

/**
 * Validates families and services and returns them as a Catalog. Every problem is reported at
 * once: unknown parents or families, cycles, duplicate names, and two services that would share a
 * host port on one machine.
 */
export function buildCatalog(
  families: readonly unknown[] = FAMILIES,
  services: readonly unknown[] = SERVICES,
  files = { families: "catalog/families.ts", services: "catalog/services.ts" },
): Catalog {
  const fams = parseWith(z.array(familySchema), families, files.families, "families");
  const svcs = parseWith(z.array(serviceSchema), services, files.services, "services");
  const problems: string[] = [];

  const famNames = fams.map((f) => f.name);
  duplicates(famNames).forEach((n) => problems.push(problem(files.families, "families", `family "${n}" is listed twice`)));
  duplicates(svcs.map((s) => s.name)).forEach((n) => problems.push(problem(files.services, "services", `service "${n}" is listed twice`)));

  fams.forEach((f, i) => {
    if (f.parent !== null && !famNames.includes(f.parent)) {
      problems.push(problem(files.families, `families[${i}].parent`, `unknown family; known: ${famNames.join(", ")}`, f.parent));
    }
  });
  const ordered = buildOrder(fams);
  if (ordered.length < fams.length) {
    const stuck = fams.filter((f) => !ordered.includes(f)).map((f) => f.name);
    problems.push(problem(files.families, "families", `families build FROM each other in a cycle: ${stuck.join(", ")}`));
  }

  svcs.forEach((s, i) => {
    if (!famNames.includes(s.family)) {
      problems.push(problem(files.services, `services[${i}].family`, `unknown family; known: ${famNames.join(", ")}`, s.family));
    }
  });

  for (const machine of ["mainpc", "pc2", "local"] as const) {
    problems.push(...portClashes(svcs.filter((s) => runsOn(s.placement, machine)), machine, files.services));
  }
  if (problems.length) throw new FleetInputError(problems);

  return {
    families: ordered,
    services: svcs.map((s) => ({ ...s, gpu: lineage(ordered, s.family).some((f) => f.gpu) })),
  };
}

/** Problems for every host port used twice among `services` on `machine`. */
export function portClashes(services: readonly Service[], machine: string, file: string): string[] {
  const owners = new Map<number, string[]>();
  for (const s of services) {
    for (const p of new Set([s.ports.service, s.ports.health])) owners.set(p, [...(owners.get(p) ?? []), s.name]);
    if (s.ports.service === s.ports.health) owners.get(s.ports.service)!.push(s.name);
  }
  return [...owners]
    .filter(([, names]) => names.length > 1)
    .map(([port, names]) =>
      problem(file, "ports", `host port ${port} is used twice on ${machine} (${names.join(" and ")}); each port may serve one service`),
    );
}

/** Families sorted parents-first; families in a cycle or under an unknown parent are left out. */
function buildOrder(families: readonly Family[]): Family[] {
  const out: Family[] = [];
  const placed = new Set<string>();
  let progress = true;
  while (progress) {
    progress = false;
    for (const f of families) {
      if (!placed.has(f.name) && (f.parent === null || placed.has(f.parent))) {
        out.push(f);
        placed.add(f.name);
        progress = true;
      }
    }
  }
  return out;
}

function duplicates(names: readonly string[]): string[] {
  return [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
}
