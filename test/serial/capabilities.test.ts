import { describe, expect, it } from "vitest";
import { capabilitiesFromInfo } from "../../src/hal/serial/capabilities.js";
import type { BoardInfo } from "../../src/hal/serial/messages.js";

const board = (over: Partial<BoardInfo> = {}): BoardInfo => ({
  firmware: "2.1.0",
  protocol: 1,
  cells: 16,
  temps: 2,
  measuresCurrent: false,
  controlsFets: false,
  balancing: true,
  bleedResistorOhm: 33,
  maxBalancing: 4,
  hardwareProtections: ["cell_ov", "cell_uv"],
  ...over,
});

describe("capabilities from board reports", () => {
  it("equal boards: one balancing group per board, protections every board enforces", () => {
    const caps = capabilitiesFromInfo([
      board({
        measuresCurrent: true,
        controlsFets: true,
        hardwareProtections: ["cell_ov", "cell_uv", "short_circuit"],
      }),
      board({ maxBalancing: 3 }),
      board({ hardwareProtections: ["cell_ov"], bleedResistorOhm: 47 }),
    ]);
    expect(caps).toMatchObject({
      cellCount: 48,
      temperatureSensorCount: 6,
      measuresCurrent: true,
      controlsFets: true,
      hardwareProtections: ["cell_ov"],
      balancing: { groupSize: 16, maxPerGroup: 3, maxSimultaneous: 11, bleedResistorOhm: 47 },
    });
  });

  it("one board that cannot bleed: balancing is declared absent, not faked", () => {
    const caps = capabilitiesFromInfo([board(), board({ balancing: false })]);
    expect(caps.balancing).toBeNull();
    expect(caps.measuresCurrent).toBe(false);
  });
});
