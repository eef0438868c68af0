import { describe, expect, it } from "vitest";
import { loadScenario, runScenarioTrace } from "./scenario-harness.js";

/** The hot-ambient outage (mains off 9000–12600 s) with and without the ideal diode. */
async function outage(enabled: boolean) {
  const base = loadScenario("hot-ambient");
  const run = await runScenarioTrace(
    { ...base, config: { ...base.config, protection: { idealDiode: { enabled } } } },
    12_700,
  );
  const during = run.trace.filter((t) => t.tMs > 9_001_000 && t.tMs < 12_600_000);
  const boardMax = Math.max(...run.trace.map((t) => t.boardTempDeciC ?? Number.NEGATIVE_INFINITY));
  const boardTrips = run.events.filter(
    (e) => e.type === "fault" && e.code === "board_ot" && e.level === "trip" && e.action === "raised",
  ).length;
  return { run, during, boardMax, boardTrips };
}

describe("ideal diode on the simulated pack (hot-ambient)", () => {
  it("carries the outage load through the closed charge FET: no board_ot cycling", async () => {
    const off = await outage(false);
    const on = await outage(true);
    const trip = on.run.config.protection.boardOt.trip!;
    // Without it the body diode heats the board past its trip and the load is dropped.
    expect(off.boardTrips).toBeGreaterThan(0);
    expect(off.during.some((t) => !t.dsg)).toBe(true);
    // With it: ot_charge still blocks charging, but the load flows through a closed FET.
    expect(on.boardTrips).toBe(0);
    expect(on.boardMax).toBeLessThan(trip.reset);
    expect(on.during.length).toBeGreaterThan(0);
    expect(on.during.every((t) => t.dsg && t.trips.includes("ot_charge"))).toBe(true);
    expect(on.during.filter((t) => t.chg).length).toBeGreaterThan(0.99 * on.during.length);
    const fets = on.run.events.filter((e) => e.type === "fets" && e.reason.includes("ideal diode"));
    expect(fets.map((e) => e.type === "fets" && e.chg)).toEqual([true, false]);
    // When mains returns the current falls to zero and the charge FET opens again.
    const after = on.run.trace.filter((t) => t.tMs > 12_601_000);
    expect(after.every((t) => !t.chg && t.dsg)).toBe(true);
  }, 60_000);
});
