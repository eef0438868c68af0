import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EVT1 } from "../../src/comms/alarms.js";
import { renderRegistersMarkdown } from "../../src/comms/docs.js";
import { buildMap, readRegisters, renderImage } from "../../src/comms/map.js";
import { newServerState } from "../../src/comms/points.js";
import { type FixtureOptions, fault, fixtureSnapshot, testConfig } from "./fixture.js";

const s16 = (v: number) => (v & 0x8000 ? v - 0x10000 : v);
const u32 = (r: Uint16Array, i: number) => r[i]! * 0x10000 + r[i + 1]!;
const text = (r: Uint16Array) =>
  String.fromCharCode(...[...r].flatMap((w) => [w >> 8, w & 0xff])).replace(/\0+$/, "");

function image(config = testConfig(), snap = fixtureSnapshot(config)) {
  const map = buildMap(config);
  const img = renderImage(map, snap, newServerState());
  const at = (addr: number, qty = 1) => {
    const r = readRegisters(img, addr, qty);
    if (!r) throw new Error(`no registers at ${addr}`);
    return r;
  };
  return { map, img, at };
}

describe("register map layout", () => {
  it("walks the SunSpec chain from 40000 to the end model", () => {
    for (const cells of [4, 16, 40, 256]) {
      const { at, map } = image(testConfig({ pack: { cellsInSeries: cells } }));
      expect(text(at(40000, 2))).toBe("SunS");
      let addr = 40002;
      const seen: [number, number, number][] = [];
      for (let guard = 0; guard < 50; guard++) {
        const [id, len] = at(addr, 2);
        seen.push([id!, addr, len!]);
        if (id === 0xffff) break;
        addr += 2 + len!;
      }
      const modules = Math.ceil(cells / 16);
      expect(seen.map((s) => s[0])).toEqual([1, 802, ...Array(modules).fill(805), 0xffff]);
      expect(seen[0]).toEqual([1, 40002, 66]);
      expect(seen[1]).toEqual([802, 40070, 62]);
      const last = seen.at(-1)!;
      expect(last[2]).toBe(0);
      // Reading past the end model is an address error.
      expect(readRegisters(renderImage(map, null, newServerState()), last[1] + 2, 1)).toBeNull();
      const lengths = seen.filter((s) => s[0] === 805).map((s) => s[2]);
      expect(lengths.reduce((a, b) => a + (b - 42) / 4, 0)).toBe(cells);
    }
  });

  it("keeps the UPS block at 64 registers and rejects reads across block gaps", () => {
    const { img, map } = image();
    expect(map.blocks[0]!.length).toBe(64);
    expect(readRegisters(img, 0, 64)).not.toBeNull();
    expect(readRegisters(img, 60, 8)).toBeNull();
    expect(readRegisters(img, 250, 10)).toBeNull();
    expect(readRegisters(img, 256, 125)).not.toBeNull();
    expect(readRegisters(img, 790, 20)).toBeNull();
    expect(readRegisters(img, 39999, 2)).toBeNull();
  });

  it("docs/registers.md is generated from the map (regenerate when this fails)", () => {
    const onDisk = readFileSync(new URL("../../docs/registers.md", import.meta.url), "utf8");
    expect(onDisk).toBe(renderRegistersMarkdown());
  });
});

describe("register values from one snapshot", () => {
  it("fills the UPS block with fixed scaling", () => {
    const config = testConfig();
    const snap = fixtureSnapshot(config);
    const { at } = image(config, snap);
    const r = at(0, 64);
    expect(r[12]).toBe(875); // SoC 87.5 %
    expect(r[13]).toBe(963);
    expect(r[14]).toBe(Math.round(snap.measurements.packVoltageMv / 100));
    expect(s16(r[15]!)).toBe(-123); // −12.345 A, positive = charging
    expect(u32(r, 16) | 0).toBe(Math.round(snap.measurements.packPowerW));
    expect(r[18]).toBe(3315);
    expect(r[19]).toBe(16);
    expect(r[20]).toBe(3300);
    expect(r[21]).toBe(1);
    expect(r[28]).toBe(552);
    expect(r[29]).toBe(200);
    expect(r[30]).toBe(1000);
    expect(r[36]).toBe(90); // 5400 s
    expect(r[37]).toBe(0xffff); // not charging
    expect(u32(r, 38)).toBe(70_000); // > 65535: really 32 bits
    expect(r[40]).toBe(16);
    expect(r[47]).toBe(7);
    // Flags: charge/discharge allowed, both FETs, balancing, remote mode, valid data.
    const flags = r[5]!;
    for (const b of [0, 1, 2, 3, 4, 8, 10]) expect((flags >> b) & 1).toBe(1);
    expect((flags >> 6) & 1).toBe(0);
  });

  it("fills the cell block, with not-implemented values for absent cells and sensors", () => {
    const { at } = image();
    expect([...at(256, 3)]).toEqual([3300, 3301, 3302]);
    expect(at(256 + 16, 1)[0]).toBe(0xffff);
    expect([...at(512, 5)].map(s16)).toEqual([251, 262, 243, 255, -32768]);
    expect(at(768, 2)[0]).toBe(1 << 2); // cell 3 bleeds; cell 18 does not exist in a 16-cell pack
    expect(at(784, 1)[0]).toBe(1 << 3);
  });

  it("decodes model 802 with its scale factors", () => {
    const config = testConfig();
    const snap = fixtureSnapshot(config);
    const { at } = image(config, snap);
    const m = at(40070, 64);
    const sf = (off: number) => s16(m[off]!);
    const val = (off: number, sfOff: number, signed = false) =>
      (signed ? s16(m[off]!) : m[off]!) * 10 ** sf(sfOff);
    expect(m[0]).toBe(802);
    expect(val(11, 56)).toBeCloseTo(87.5, 6); // SoC × 10^SoC_SF
    expect(val(13, 58)).toBeCloseTo(96.3, 6);
    expect(val(44, 61, true)).toBeCloseTo(-12.3, 6); // A
    expect(val(34, 59)).toBeCloseTo(snap.measurements.packVoltageMv / 1000, 2);
    expect(val(37, 60)).toBeCloseTo(3.315, 6); // CellVMax
    expect(val(40, 60)).toBeCloseTo(3.3, 6);
    expect(val(45, 62)).toBeCloseTo(20, 6); // AChaMax = CCL
    expect(val(46, 62)).toBeCloseTo(100, 6);
    expect(val(35, 59)).toBeCloseTo(55.2, 6); // VMax = CVL
    expect(val(2, 52)).toBeCloseTo(config.pack.capacityAh, 6);
    expect(m[17]).toBe(0); // remote
    expect(m[21]).toBe(4); // lithium-ion
    expect(m[22]).toBe(3); // connected
    expect(m[16]).toBe(3); // discharging
    expect(m[6]).toBe(0xffff); // DisChaRte not implemented
    expect(m[55]).toBe(0x8000); // DisChaRte_SF not implemented
    expect(u32(m, 24)).toBe(0xffffffff); // WarrDt not implemented
  });

  it("maps fault codes to Evt1 and the vendor bitfields", () => {
    const config = testConfig();
    const snap = fixtureSnapshot(config, {
      faults: [fault("cell_ov", "warning"), fault("ot_discharge", "trip", true), fault("afe_comms", "alarm")],
    });
    const { at } = image(config, snap);
    const evt1 = u32(at(40096, 2), 0);
    expect(evt1).toBe(((1 << EVT1.OVER_VOLT_WARNING) | (1 << EVT1.OVER_TEMP_ALARM) | 1) >>> 0);
    expect(u32(at(6, 2), 0)).toBe(evt1);
    expect(u32(at(8, 2), 0)).toBe((1 << 0) | (1 << 6) | (1 << 12));
    expect(u32(at(10, 2), 0)).toBe(1 << 6);
    expect((at(5)[0]! >> 11) & 1).toBe(1);
  });

  it("raises COMMUNICATION_ERROR and clears the alive flag when protection's heartbeat expires", () => {
    const config = testConfig();
    const timeout = config.modbus.heartbeatTimeoutMs;
    const at = (remote: FixtureOptions["remote"]) =>
      image(config, fixtureSnapshot(config, { timestampMs: 100_000, remote })).at;
    const evt1 = (a: ReturnType<typeof at>) => u32(a(40096, 2), 0) & 1;
    const aliveFlag = (a: ReturnType<typeof at>) => (a(5)[0]! >> 12) & 1;
    const never = at({ heard: false, expired: true, heartbeatAgeMs: 2 * timeout });
    const alive = at({ heard: true, expired: false, heartbeatAgeMs: timeout });
    const lost = at({ heard: true, expired: true, heartbeatAgeMs: timeout + 1 });
    // No controller has ever spoken: not an error, not alive.
    expect([evt1(never), aliveFlag(never)]).toEqual([0, 0]);
    expect([evt1(alive), aliveFlag(alive)]).toEqual([0, 1]);
    expect([evt1(lost), aliveFlag(lost)]).toEqual([1, 0]);
    expect(u32(lost(6, 2), 0) & 1).toBe(1);
  });

  it("serves model 805 per-cell voltages, temperatures and balancing", () => {
    const config = testConfig({ pack: { cellsInSeries: 20 } });
    const { at } = image(config, fixtureSnapshot(config, { balancing: [17] }));
    // Module 1 at 40134 (16 cells, L = 106), module 2 at 40242 (4 cells, L = 58).
    const m2 = at(40242, 60);
    expect([m2[0], m2[1], m2[3], m2[4]]).toEqual([805, 58, 2, 4]);
    const cells = 44;
    expect([m2[cells]!, m2[cells + 4]!, m2[cells + 8]!, m2[cells + 12]!]).toEqual([3316, 3317, 3318, 3319]);
    expect(m2[cells + 4 + 3]).toBe(1); // cell 18 (index 17) balancing
    expect(m2[cells + 3]).toBe(0);
    expect(s16(m2[cells + 1]!)).toBe(255); // last sensor covers the top cells
    expect(text(at(40242 + 22, 16))).toBe("SN-TEST-1-M2");
  });

  it("serves not-implemented values before the first snapshot", () => {
    const config = testConfig();
    const map = buildMap(config);
    const img = renderImage(map, null, newServerState());
    expect(readRegisters(img, 12, 1)![0]).toBe(0xffff);
    expect(readRegisters(img, 15, 1)![0]).toBe(0x8000);
    expect(readRegisters(img, 40070, 1)![0]).toBe(802);
    expect(readRegisters(img, 40092, 1)![0]).toBe(0xffff);
  });
});
