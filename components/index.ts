export * from "./familyImage";
export * from "./serviceImage";
export * from "./serviceContainer";
export * from "./fleet";
export * from "./runSpec";
export * from "./containerStarted";
export * from "./healthCanary";
export * from "./prevTag";
