/**
 * The fixed-scale "UPS block" at 0–63 for controller firmware that does not walk SunSpec:
 * everything a UPS needs to decide (state, alarms, SOC, limits, runtime) in one read.
 */
import { bmsStateIndex, STATUS_FLAGS } from "./derived.js";
import { type Point, type ReadContext, point, reserved } from "./points.js";
import { inUnits, remoteOf } from "./remote.js";
import { alarmResetRule, cclRule, ctrlHbRule, dclRule, setOpRule, socReserveRule } from "./writes.js";

/** Increments on an incompatible change of the UPS and cell blocks. */
export const MAP_VERSION = 1;

const snap =
  <T>(
    f: (c: ReadContext & { snap: NonNullable<ReadContext["snap"]>; d: NonNullable<ReadContext["d"]> }) => T,
  ) =>
  (c: ReadContext): T | null =>
    c.snap && c.d ? f(c as Parameters<typeof f>[0]) : null;

const oneBased = (i: number): number | null => (i < 0 ? null : i + 1);

const minutes = (s: number | null): number | null => (s === null || !Number.isFinite(s) ? null : s / 60);

export function upsBlock(): Point[] {
  const flagText = STATUS_FLAGS.map((f, i) => `b${i} ${f}`).join("; ");
  return [
    point({
      name: "MapVersion",
      type: "uint16",
      value: () => MAP_VERSION,
      description: "Layout version of blocks 0–799",
    }),
    point({
      name: "Hb",
      type: "uint16",
      units: "s",
      value: snap((c) => Math.floor(c.snap.timestampMs / 1000) % 65536),
      description: "Battery heartbeat: loop time in seconds, wraps at 65536 (= 802 Hb)",
    }),
    point({
      name: "CtrlHb",
      type: "uint16",
      value: (c) => c.server.ctrlHb,
      write: ctrlHbRule,
      description:
        "Controller heartbeat, written by the UPS; remote set-points expire without it or another set-point write (= 802 CtrlHb)",
    }),
    point({
      name: "State",
      type: "enum16",
      value: snap((c) => c.d.state802),
      description: "802 State: 1 disconnected, 2 initializing, 3 connected, 99 fault",
    }),
    point({
      name: "ChaSt",
      type: "enum16",
      value: snap((c) => c.d.chaSt),
      description: "802 ChaSt: 1 off, 2 empty, 3 discharging, 4 charging, 5 full, 6 holding",
    }),
    point({
      name: "StatusFlags",
      type: "bitfield16",
      value: snap((c) => c.d.statusFlags),
      description: flagText,
    }),
    point({
      name: "Alarms",
      type: "bitfield32",
      value: snap((c) => c.d.alarms.evt1),
      description: "Warnings and alarms, SunSpec 802 Evt1 bit layout (see below)",
    }),
    point({
      name: "ActiveFaults",
      type: "bitfield32",
      value: snap((c) => c.d.alarms.activeCodes),
      description: "Bit n: fault code n active (table below) (= 802 EvtVnd1)",
    }),
    point({
      name: "LatchedFaults",
      type: "bitfield32",
      value: snap((c) => c.d.alarms.latchedCodes),
      description: "Bit n: fault code n latched, needs AlmRst (= 802 EvtVnd2)",
    }),
    point({
      name: "SoC",
      type: "uint16",
      units: "0.1 %",
      value: snap((c) => c.snap.estimates.reportedSocPct * 10),
      description: "State of charge as reported to users",
    }),
    point({
      name: "SoH",
      type: "uint16",
      units: "0.1 %",
      value: snap((c) => c.snap.estimates.sohPct * 10),
      description: "State of health",
    }),
    point({
      name: "PackV",
      type: "uint16",
      units: "0.1 V",
      value: snap((c) => c.snap.measurements.packVoltageMv / 100),
      description: "Pack voltage",
    }),
    point({
      name: "PackA",
      type: "int16",
      units: "0.1 A",
      value: snap((c) => c.snap.measurements.packCurrentMa / 100),
      description: "Pack current, positive when charging",
    }),
    point({
      name: "PackW",
      type: "int32",
      units: "W",
      value: snap((c) => c.snap.measurements.packPowerW),
      description: "Pack power, positive when charging",
    }),
    point({
      name: "CellVMax",
      type: "uint16",
      units: "mV",
      value: snap((c) => c.snap.measurements.cells.maxMv),
      description: "Highest cell voltage",
    }),
    point({
      name: "CellVMaxIdx",
      type: "uint16",
      value: snap((c) => oneBased(c.snap.measurements.cells.maxIndex)),
      description: "Cell number (1-based) of the highest cell",
    }),
    point({
      name: "CellVMin",
      type: "uint16",
      units: "mV",
      value: snap((c) => c.snap.measurements.cells.minMv),
      description: "Lowest cell voltage",
    }),
    point({
      name: "CellVMinIdx",
      type: "uint16",
      value: snap((c) => oneBased(c.snap.measurements.cells.minIndex)),
      description: "Cell number (1-based) of the lowest cell",
    }),
    point({
      name: "CellVAvg",
      type: "uint16",
      units: "mV",
      value: snap((c) => c.snap.measurements.cells.meanMv),
      description: "Mean cell voltage",
    }),
    point({
      name: "TempMax",
      type: "int16",
      units: "0.1 °C",
      value: snap((c) => c.snap.measurements.maxTempDeciC),
      description: "Highest cell/module temperature",
    }),
    point({
      name: "TempMaxIdx",
      type: "uint16",
      value: snap((c) =>
        c.snap.measurements.maxTempDeciC === null ? null : c.snap.measurements.maxTempIndex + 1,
      ),
      description: "Sensor number (1-based) of the highest temperature",
    }),
    point({
      name: "TempMin",
      type: "int16",
      units: "0.1 °C",
      value: snap((c) => c.snap.measurements.minTempDeciC),
      description: "Lowest cell/module temperature",
    }),
    point({
      name: "TempMinIdx",
      type: "uint16",
      value: snap((c) =>
        c.snap.measurements.minTempDeciC === null ? null : c.snap.measurements.minTempIndex + 1,
      ),
      description: "Sensor number (1-based) of the lowest temperature",
    }),
    point({
      name: "BoardTemp",
      type: "int16",
      units: "0.1 °C",
      value: snap((c) => c.snap.measurements.boardTempDeciC),
      description: "AFE die / FET temperature",
    }),
    point({
      name: "CVL",
      type: "uint16",
      units: "0.1 V",
      value: snap((c) => c.snap.protection.limits.cvlMv / 100),
      description: "Charge voltage limit the charger must follow (= 802 VMax)",
    }),
    point({
      name: "CCL",
      type: "uint16",
      units: "0.1 A",
      value: snap((c) => c.snap.protection.limits.cclMa / 100),
      description: "Charge current limit in force (= 802 AChaMax)",
    }),
    point({
      name: "DCL",
      type: "uint16",
      units: "0.1 A",
      value: snap((c) => c.snap.protection.limits.dclMa / 100),
      description: "Discharge current limit in force (= 802 ADisChaMax); 0 = stop discharging",
    }),
    point({
      name: "CutoffV",
      type: "uint16",
      units: "0.1 V",
      value: (c) => (c.config.protection.charge.dischargeStopMv * c.config.pack.cellsInSeries) / 100,
      description: "End-of-discharge voltage (= 802 VMin)",
    }),
    point({
      name: "RemainingAh",
      type: "uint32",
      units: "0.01 Ah",
      value: snap((c) => c.snap.estimates.remainingAh * 100),
      description: "Remaining charge",
    }),
    point({
      name: "RemainingWh",
      type: "uint32",
      units: "Wh",
      value: snap((c) => c.snap.estimates.remainingWh),
      description: "Remaining energy",
    }),
    point({
      name: "RuntimeMin",
      type: "uint16",
      units: "min",
      value: snap((c) => minutes(c.snap.estimates.runtimeS)),
      description: "Minutes to cut-off at the present load; 65535 = not discharging / unknown",
    }),
    point({
      name: "TimeToFullMin",
      type: "uint16",
      units: "min",
      value: snap((c) => minutes(c.snap.estimates.timeToFullS)),
      description: "Minutes to full while charging; 65535 = unknown",
    }),
    point({
      name: "CycleCount",
      type: "uint32",
      value: snap((c) => Math.floor(c.snap.estimates.counters.equivalentCycles)),
      description: "Equivalent full cycles (= 802 NCyc)",
    }),
    point({
      name: "CellCount",
      type: "uint16",
      value: (c) => c.config.pack.cellsInSeries,
      description: "Cells in series (sizes the cell block)",
    }),
    point({
      name: "TempSensorCount",
      type: "uint16",
      value: snap((c) => c.snap.measurements.temperaturesDeciC.length),
      description: "Temperature sensors (sizes the temperature block)",
    }),
    point({
      name: "BmsState",
      type: "enum16",
      value: snap((c) => bmsStateIndex(c.snap)),
      description: "0 init, 1 standby, 2 charging, 3 discharging, 4 fault, 5 shutdown (= 802 StateVnd)",
    }),
    point({
      name: "ActiveFaultCount",
      type: "uint16",
      value: snap((c) => c.snap.protection.faults.length),
      description: "Active faults (all levels)",
    }),
    point({
      name: "AcceptedWrites",
      type: "uint16",
      value: (c) => c.server.acceptedWrites % 65536,
      description: "Write requests accepted by this server (wraps)",
    }),
    point({
      name: "RejectedWrites",
      type: "uint16",
      value: (c) => c.server.rejectedWrites % 65536,
      description: "Write requests refused (access, address or value), wraps",
    }),
    point({
      name: "LoopOverruns",
      type: "uint16",
      value: snap((c) => c.snap.loop.overruns % 65536),
      description: "Control-loop ticks that overran their period (wraps)",
    }),
    point({
      name: "SnapshotSeq",
      type: "uint16",
      value: snap((c) => c.snap.seq % 65536),
      description: "Sequence number of the snapshot this read was served from (wraps)",
    }),
    point({
      name: "AlmRst",
      type: "uint16",
      value: () => 0,
      write: alarmResetRule,
      description: "Alarm reset (= 802 AlmRst); reads 0",
    }),
    point({
      name: "SetOp",
      type: "enum16",
      value: snap((c) => (c.snap.remote.disconnectRequested ? 2 : 1)),
      write: setOpRule,
      description:
        "Remote connect/disconnect for maintenance (= 802 SetOp); reads 2 while a remote disconnect is active",
    }),
    point({
      name: "RemoteCCL",
      type: "uint16",
      units: "0.1 A",
      value: snap((c) => inUnits(remoteOf(c.snap).cclMa, 100)),
      write: cclRule,
      description:
        "Remote charge-current set-point as protection applies it (from the next tick); 65535 = none or expired",
    }),
    point({
      name: "RemoteDCL",
      type: "uint16",
      units: "0.1 A",
      value: snap((c) => inUnits(remoteOf(c.snap).dclMa, 100)),
      write: dclRule,
      description:
        "Remote discharge-current set-point as protection applies it (from the next tick); 65535 = none or expired",
    }),
    point({
      name: "SocReserve",
      type: "uint16",
      units: "0.1 %",
      value: snap((c) => inUnits(remoteOf(c.snap).socReservePct, 0.1)),
      write: socReserveRule,
      description:
        "Remote minimum SOC reserve as protection applies it (= 802 SoCRsvMin); 65535 = none, 0 or expired",
    }),
    point({
      name: "HbTimeoutS",
      type: "uint16",
      units: "s",
      value: (c) => c.config.modbus.heartbeatTimeoutMs / 1000,
      description: "Controller heartbeat timeout (config modbus.heartbeatTimeoutMs)",
    }),
    reserved(10),
  ];
}
