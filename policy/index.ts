import { PolicyPack } from "@pulumi/policy";
import { fleetPolicies, stackFacts } from "./policies";

// The engine hands an analyzer the stack's config as JSON in PULUMI_CONFIG ("fleet:key" -> value).
const config: Record<string, unknown> = JSON.parse(process.env.PULUMI_CONFIG || "{}");

// Constructing the pack starts serving it to the engine: this file is the pack's entry only.
new PolicyPack("fleet", { enforcementLevel: "mandatory", policies: fleetPolicies(stackFacts(config)) });
