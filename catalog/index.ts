export * from "./types";
export * from "./catalog";
export { FAMILIES } from "./families";
export { SERVICES } from "./services";
