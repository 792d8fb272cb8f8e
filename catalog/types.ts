import { z } from "zod";

/** The machines a service can be placed on. `both` means one container on each. */
export const PLACEMENTS = ["mainpc", "pc2", "both"] as const;

/** The machines a stack can describe. `local` is any Docker host standing in for both. */
export const MACHINES = ["mainpc", "pc2", "local"] as const;

/** A machine a stack runs on. */
export type Machine = (typeof MACHINES)[number];

/** Where a service runs. */
export type Placement = (typeof PLACEMENTS)[number];

const name = z.string().regex(/^[a-z][a-z0-9-]*$/, "must be lower-case letters, digits and dashes");
const port = z.number().int().min(1024, "must be 1024 or more (CIS 5.8: no privileged host ports)").max(65535);

/** A family base image: a node of the image tree. */
export const familySchema = z.strictObject({
  /** Image name in the registry (the root family's Dockerfile is dockerfiles/<name>.Dockerfile). */
  name,
  /** The family this one is built FROM; null for a root, which is built FROM the stack's base image. */
  parent: name.nullable(),
  /** Whether images of this family need a GPU at run time. */
  gpu: z.boolean(),
  /** One line on what the family adds. */
  description: z.string().min(1),
});

/** A family base image. */
export type Family = z.infer<typeof familySchema>;

/** A service of the fleet. */
export const serviceSchema = z.strictObject({
  /** The service's name as the plan spells it. */
  name: z.string().regex(/^[A-Z][A-Za-z0-9]*$/, "must be PascalCase letters and digits"),
  /** Which machine runs it. */
  placement: z.enum(PLACEMENTS),
  /** The family its image is built FROM. */
  family: name,
  /** The port it serves on and the port its /health answers on. */
  ports: z.strictObject({ service: port, health: port }),
  /** The plan phase that brought it in, e.g. "4.2". */
  phase: z.string().regex(/^\d+(\.\d+)?$/, 'must look like "4.2"'),
});

/** A service of the fleet. */
export type Service = z.infer<typeof serviceSchema>;

/** A service with what its family implies. */
export interface CatalogService extends Service {
  /** Whether the service needs a GPU (it does when its family, or an ancestor, does). */
  readonly gpu: boolean;
}
