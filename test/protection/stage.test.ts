import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/schema.js";
import { FAULT_CODES } from "../../src/core/faults.js";
import { createProtection } from "../../src/protection/protection.js";
import { PROTECTED_CODES } from "../../src/protection/rules.js";
import { restoreState } from "../../src/protection/state.js";
import { estimates, measurements } from "./rig.js";

const config = parseConfig({});

function step(
  prot: ReturnType<typeof createProtection>,
  nowMs: number,
  spec: Parameters<typeof measurements>[1],
) {
  return prot.step({
    nowMs,
    elapsedMs: nowMs === 0 ? 0 : 250,
    measurements: measurements(config, spec, nowMs),
    estimates: estimates(spec),
    requests: [],
  });
}

describe("createProtection", () => {
  it("exports latched faults as JSON and restores them into a new stage", () => {
    const prot = createProtection(config);
    let t = 0;
    for (; t <= 10_000; t += 250) step(prot, t, { cells: { 2: 1800 } });
    const saved = JSON.parse(JSON.stringify(prot.exportState()));
    expect(saved.latched.map((l: { code: string }) => l.code)).toEqual(["deep_discharge"]);
    const again = createProtection(config, { restored: saved });
    const out = step(again, 0, { valid: false, fets: { chg: true, dsg: true } });
    expect(out.view.fets.dsg).toBe(false);
    expect(out.events.some((e) => e.type === "fault" && e.action === "latched")).toBe(true);
    // Announced once, not on every tick.
    const next = step(again, 250, { valid: false });
    expect(next.events.filter((e) => e.type === "fault")).toEqual([]);
  });

  it("ignores unreadable saved state instead of trusting it", () => {
    for (const junk of [
      null,
      42,
      "x",
      { latched: "no" },
      { latched: [{ code: "nope", value: 1, limit: 1 }] },
    ]) {
      const s = restoreState(junk);
      expect(s.slots.every((x) => !x.latched)).toBe(true);
    }
    const ok = restoreState({
      latched: [{ code: "short_circuit", value: 1, limit: 2 }, { code: "cell_ov" }],
    });
    expect(ok.slots.filter((x) => x.latched)).toHaveLength(1);
  });

  it("covers every protection fault code, and docs/protection.md documents each", () => {
    const expected = FAULT_CODES.filter((c) => c !== "recording");
    expect([...PROTECTED_CODES].sort()).toEqual([...expected].sort());
    const doc = readFileSync(new URL("../../docs/protection.md", import.meta.url), "utf8");
    for (const code of PROTECTED_CODES) expect(doc).toContain(`| \`${code}\` |`);
  });
});
