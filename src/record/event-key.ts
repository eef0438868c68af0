/** How events are identified as repeats, and the one-line text a technician reads. */
import type { BmsEvent } from "../core/events.js";

/** Events with the same key inside the repeat window share a row (count, first/last time). */
export function eventKey(e: BmsEvent, uniq: number): string {
  switch (e.type) {
    case "fault":
      return `fault|${e.code}|${e.action}|${e.level}|${e.detail ?? ""}`;
    case "state":
      return `state|${e.from}|${e.to}|${e.reason}`;
    case "fets":
      return `fets|${e.chg}|${e.dsg}|${e.reason}`;
    case "balance":
      return `balance|${e.cells.join(",")}|${e.reason}`;
    case "command":
      return `command|${e.source}|${e.command}|${e.accepted}|${e.detail}`;
    case "error":
      return `error|${e.where}|${e.code}|${e.message}`;
    case "estimate":
      // The detail carries the numbers: two anchors are two rows, not one repeat.
      return `estimate|${e.what}|${e.detail}`;
    case "lifecycle":
      // Starts and stops are never folded together: each is a landmark in the timeline.
      return `lifecycle|${e.what}|${uniq}`;
  }
}

export function eventSummary(e: BmsEvent): string {
  switch (e.type) {
    case "fault":
      return `${e.code} ${e.action} (${e.level}) value ${e.value} limit ${e.limit}${e.detail ? ` ${e.detail}` : ""}`;
    case "state":
      return `state ${e.from} -> ${e.to}: ${e.reason}`;
    case "fets":
      return `FETs chg ${e.chg ? "on" : "off"}, dsg ${e.dsg ? "on" : "off"}: ${e.reason}`;
    case "balance":
      return `balancing ${e.cells.length ? `cells ${e.cells.join(",")}` : "off"}: ${e.reason}`;
    case "command":
      return `command ${e.command} from ${e.source} ${e.accepted ? "accepted" : "refused"}${e.detail ? `: ${e.detail}` : ""}`;
    case "lifecycle":
      return `${e.what}: ${e.detail}`;
    case "error":
      return `error in ${e.where} (${e.code}): ${e.message}`;
    case "estimate":
      return `${e.what}: SOC ${e.socPct.toFixed(1)} %${e.deltaPct === 0 ? "" : ` (${e.deltaPct > 0 ? "+" : ""}${e.deltaPct.toFixed(1)} %)`}: ${e.detail}`;
  }
}

/** A trip worth a capture: a trip-level fault being raised. */
export function isTrip(e: BmsEvent): e is Extract<BmsEvent, { type: "fault" }> {
  return e.type === "fault" && e.level === "trip" && e.action === "raised";
}
