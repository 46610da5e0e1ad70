export * from "./errors";
export * from "./variables";
export * from "./metadata";
export * from "./run";
export { valueType } from "./variables";
export * from "./times";
