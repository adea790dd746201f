/**
 * The pure Matrix protocol core: no I/O, only the rules of the specification. Import from here
 * (or from the individual modules, named after the spec sections they implement).
 */
export * from "./base64.js";
export * from "./canonical-json.js";
export * from "./event-id.js";
export * from "./hashes.js";
export * from "./identifiers.js";
export * from "./redaction.js";
export * from "./room-versions.js";
export * from "./signing.js";
