import manifest from "../package.json" with { type: "json" };

/** The running release, as package.json names it (backups and /metrics record it). */
export const gatehouseVersion: string = manifest.version;
