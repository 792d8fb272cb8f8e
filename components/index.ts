export * from "./familyImage";
export * from "./serviceImage";
export * from "./serviceContainer";
export * from "./fleet";
export * from "./health";
export * from "./healthCanary";
