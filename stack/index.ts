export * from "./schema";
export * from "./decode";
export * from "./resolve";
export * from "./read";
export * from "./serviceEnv";
export * from "./render";
