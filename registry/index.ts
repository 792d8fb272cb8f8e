export * from "./client";
export * from "./reference";
export * from "./trust";
