export * from "./allowlist";
export * from "./cyclonedx";
export * from "./findings";
export * from "./gate";
export * from "./report";
