/**
 * Remote set-points and the controller heartbeat as protection applied them. Protection's
 * clock is the only one: the registers show what is in force, never what was last written.
 */
import type { BmsSnapshot } from "../core/snapshot.js";
import type { RemoteSetpoints } from "../protection/types.js";

// Snapshots not made by the protection stage (synthetic, older recordings) have no set-points.
const NONE: RemoteSetpoints = Object.freeze({
  cclMa: null,
  dclMa: null,
  socReservePct: null,
  heartbeatAgeMs: 0,
  heard: false,
  expired: false,
});

export const remoteOf = (s: BmsSnapshot): RemoteSetpoints => s.protection.remote ?? NONE;

/** A controller has spoken and its heartbeat is within the timeout. */
export const heartbeatAlive = (r: RemoteSetpoints): boolean => r.heard && !r.expired;

/** A controller has spoken and then gone quiet past the timeout (a communication error). */
export const heartbeatLost = (r: RemoteSetpoints): boolean => r.heard && r.expired;

/** `v` in register units (`v / unit`), or null (65535) when no set-point is in force. */
export const inUnits = (v: number | null, unit: number): number | null => (v === null ? null : v / unit);
