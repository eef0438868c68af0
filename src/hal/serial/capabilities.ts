/** What a set of boards can do together, from their INFO reports. */
import type { FaultCode } from "../../core/faults.js";
import type { AfeCapabilities, BalancingCapabilities } from "../afe.js";
import type { BoardInfo } from "./messages.js";

export function capabilitiesFromInfo(infos: readonly BoardInfo[]): AfeCapabilities {
  const cellCount = infos.reduce((s, i) => s + i.cells, 0);
  let balancing: BalancingCapabilities | null = null;
  if (infos.every((i) => i.balancing && i.maxBalancing > 0)) {
    const uniform = infos.every((i) => i.cells === infos[0]!.cells);
    const minPer = Math.min(...infos.map((i) => i.maxBalancing));
    // Unequal boards cannot be described as equal groups; one pack-wide group is the safe under-claim.
    balancing = {
      groupSize: uniform ? infos[0]!.cells : cellCount,
      adjacentAllowed: true,
      maxSimultaneous: uniform ? infos.reduce((s, i) => s + i.maxBalancing, 0) : minPer,
      maxPerGroup: minPer,
      measurementPauseMs: 0,
      bleedResistorOhm: Math.max(...infos.map((i) => i.bleedResistorOhm)),
    };
  }
  const prot = new Set<FaultCode>();
  for (const code of infos[0]!.hardwareProtections)
    if (infos.every((i) => i.hardwareProtections.includes(code))) prot.add(code);
  const fw = [...new Set(infos.map((i) => i.firmware))].join("/");
  return {
    model: `serial-board x${infos.length} (fw ${fw})`,
    cellCount,
    temperatureSensorCount: infos.reduce((s, i) => s + i.temps, 0),
    measuresCurrent: infos.some((i) => i.measuresCurrent),
    measuresPackVoltage: false,
    measuresBoardTemp: true,
    balancing,
    hardwareProtections: [...prot],
    controlsFets: infos.some((i) => i.controlsFets),
  };
}
