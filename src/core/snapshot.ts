import type { AfeCapabilities, AppliedHardwareLimits } from "../hal/afe.js";
import type { Estimates, Measurements } from "../monitor/types.js";
import type { ProtectionView } from "../protection/types.js";
import type { BalanceView } from "../balance/types.js";

export interface LoopStats {
  readonly ticks: number;
  readonly overruns: number;
  readonly tickErrors: number;
  /** Commands (FETs, bleeders, fault clears) the driver did not take, e.g. during a bus outage. */
  readonly actuationErrors: number;
  readonly periodMs: number;
  /** CPU time of the last tick, ms. */
  readonly lastTickMs: number;
  readonly maxTickMs: number;
}

/**
 * The one immutable object a tick publishes. Comms and the recorder read only this.
 * It is frozen (shallowly) before it leaves the loop.
 */
export interface BmsSnapshot {
  readonly seq: number;
  readonly timestampMs: number;
  readonly measurements: Measurements;
  readonly estimates: Estimates;
  readonly protection: ProtectionView;
  readonly balance: BalanceView;
  readonly driver: {
    readonly capabilities: AfeCapabilities;
    readonly appliedLimits: AppliedHardwareLimits | null;
  };
  readonly loop: LoopStats;
  readonly remote: {
    /** Remote (Modbus) control enabled. */
    readonly remoteMode: boolean;
    /** Maintenance disconnect requested remotely. */
    readonly disconnectRequested: boolean;
    readonly lastHeartbeatMs: number | null;
  };
}
