import type { FaultCode, FaultLevel } from "./faults.js";
import type { BmsState } from "../protection/types.js";

/**
 * What changed in the monitor's estimator state: SOC re-anchored at full or empty, corrected
 * by OCV after rest, "full" cleared, capacity learnt, current offset re-zeroed, or the state
 * restored from a save / cold-started from the cell voltage.
 */
export type EstimateChange =
  | "full-anchor"
  | "empty-anchor"
  | "ocv-correction"
  | "full-cleared"
  | "capacity-learnt"
  | "offset-zeroed"
  | "restored"
  | "cold-start";

/** Every state change is an event with its reason. `tMs` is clock time. */
export type BmsEvent =
  | {
      readonly type: "state";
      readonly tMs: number;
      readonly from: BmsState;
      readonly to: BmsState;
      readonly reason: string;
    }
  | {
      readonly type: "fault";
      readonly tMs: number;
      readonly code: FaultCode;
      readonly level: FaultLevel;
      readonly action: "raised" | "cleared" | "latched" | "reset";
      readonly value: number;
      readonly limit: number;
      readonly detail?: string;
    }
  | {
      readonly type: "fets";
      readonly tMs: number;
      readonly chg: boolean;
      readonly dsg: boolean;
      readonly reason: string;
    }
  | {
      readonly type: "balance";
      readonly tMs: number;
      readonly cells: readonly number[];
      readonly reason: string;
    }
  | {
      readonly type: "command";
      readonly tMs: number;
      readonly source: string;
      readonly command: string;
      readonly accepted: boolean;
      readonly detail: string;
    }
  | {
      readonly type: "lifecycle";
      readonly tMs: number;
      readonly what: "start" | "stop" | "config";
      readonly detail: string;
    }
  | {
      readonly type: "estimate";
      readonly tMs: number;
      readonly what: EstimateChange;
      /** SOC after the change, %. */
      readonly socPct: number;
      /** How much the change moved the SOC, % (0 when it did not). */
      readonly deltaPct: number;
      readonly detail: string;
    }
  | {
      readonly type: "error";
      readonly tMs: number;
      readonly where: string;
      readonly code: string;
      readonly message: string;
    };

export type BmsEventType = BmsEvent["type"];

/** Event severity for logs and the recorder. */
export function eventLevel(e: BmsEvent): "info" | "warning" | "alarm" | "critical" {
  switch (e.type) {
    case "fault":
      if (e.action === "cleared" || e.action === "reset") return "info";
      return e.level === "trip" ? "critical" : e.level === "alarm" ? "alarm" : "warning";
    case "error":
      return "alarm";
    case "state":
      return e.to === "fault" || e.to === "shutdown" ? "alarm" : "info";
    case "estimate":
      return "info";
    default:
      return "info";
  }
}
