import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadScenarioFile } from "../../src/hal/sim/scenario-file.js";
import { runScenario, type SimLine } from "../../src/scenario/runner.js";

const SCENARIOS = new URL("../../scenarios/", import.meta.url).pathname;

describe("sim JSON Lines: estimate lines", () => {
  it("the UPS duty day reports its cold start, rest corrections and the empty anchor of the outage", async () => {
    const { scenario } = loadScenarioFile(join(SCENARIOS, "ups-duty-day.json"));
    const lines: SimLine[] = [];
    // Up to mains return: the 2 kW outage ends at low battery, past the empty anchor.
    await runScenario({ scenario: { ...scenario, durationS: 18_000 }, write: (l) => lines.push(l) });
    const est = lines.filter((l) => l.type === "estimate");
    for (const l of est) {
      expect(Object.keys(l).sort()).toEqual(["deltaPct", "detail", "socPct", "t", "type", "what"]);
      expect(l.socPct as number).toBeGreaterThanOrEqual(0);
      expect(l.socPct as number).toBeLessThanOrEqual(100);
    }
    expect(est[0]).toMatchObject({ t: 0, what: "cold-start", deltaPct: 0 });
    // On float before the outage the rested voltage corrects the counter.
    const outageS = scenario.timeline.find((e) => e.action === "mains")?.atS ?? 0;
    expect(est.some((l) => l.what === "ocv-correction" && l.t > 0 && l.t <= outageS + 1)).toBe(true);
    const empty = est.filter((l) => l.what === "empty-anchor");
    expect(empty).toHaveLength(1);
    const e = empty[0]!;
    expect(e.t).toBeGreaterThan(outageS);
    expect(e.socPct as number).toBeLessThan(15);
    expect(e.deltaPct as number).not.toBe(0);
    // The anchor comes before the undervoltage trip that ends the outage.
    const trip = lines.find((l) => l.type === "fault" && l.code === "cell_uv" && l.level === "trip");
    expect(trip).toBeDefined();
    expect(e.t).toBeLessThan(trip!.t);
  }, 30_000);
});
