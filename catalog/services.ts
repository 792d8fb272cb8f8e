import { Service } from "./types";

/** The ten services, from the plan's "Fleet Coverage" table. Ports are service/health. */
export const SERVICES: readonly Service[] = [
  { name: "ServiceRegistry", placement: "mainpc", family: "family-web", ports: { service: 7200, health: 8200 }, phase: "4.1" },
  { name: "SystemDigitalTwin", placement: "mainpc", family: "base-cpu-pydeps", ports: { service: 7220, health: 8220 }, phase: "4.1" },
  { name: "UnifiedSystemAgent", placement: "mainpc", family: "base-cpu-pydeps", ports: { service: 7201, health: 8201 }, phase: "4.1" },
  { name: "SelfHealingSupervisor", placement: "both", family: "base-cpu-pydeps", ports: { service: 7009, health: 9008 }, phase: "4.3" },
  { name: "MemoryFusionHub", placement: "both", family: "family-cpu-pydeps", ports: { service: 5713, health: 6713 }, phase: "4.4" },
  { name: "ModelOpsCoordinator", placement: "mainpc", family: "family-llm-cu121", ports: { service: 7212, health: 8212 }, phase: "4.2" },
  { name: "AffectiveProcessingCenter", placement: "mainpc", family: "family-torch-cu121", ports: { service: 5560, health: 6560 }, phase: "4.2" },
  { name: "RealTimeAudioPipeline", placement: "both", family: "family-torch-cu121", ports: { service: 5557, health: 6557 }, phase: "4.2" },
  { name: "UnifiedObservabilityCenter", placement: "both", family: "family-web", ports: { service: 9100, health: 9110 }, phase: "4.3" },
  { name: "CentralErrorBus", placement: "pc2", family: "family-web", ports: { service: 7150, health: 8150 }, phase: "4.3" },
];
