import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc16Ccitt } from "../../src/hal/serial/checksum.js";
import { decodeLine, encodeFrame } from "../../src/hal/serial/codec.js";
import { LineFramer } from "../../src/hal/serial/framer.js";
import { type BoardInfo, encodeInfo, parseInfo, parseMeasurement } from "../../src/hal/serial/messages.js";

describe("CRC-16/CCITT-FALSE", () => {
  it("matches the catalogue check value for '123456789'", () => {
    expect(crc16Ccitt("123456789")).toBe(0x29b1);
  });
  it("matches the example lines in docs/serial-protocol.md", () => {
    expect(decodeLine(">2,513,READ*CC01").ok).toBe(true);
    expect(decodeLine("<2,513,MEAS,v=3301;3302;3299,t=251,bt=312,f=0,bal=4,st=0*41A9").ok).toBe(true);
  });
});

describe("line codec", () => {
  it("round-trips frames", () => {
    const line = encodeFrame({
      dir: "from_board",
      address: 2,
      seq: 513,
      type: "MEAS",
      fields: { v: "3301;3302", f: "0" },
    });
    expect(line.endsWith("\n")).toBe(true);
    const r = decodeLine(line.trimEnd());
    expect(r).toEqual({
      ok: true,
      frame: { dir: "from_board", address: 2, seq: 513, type: "MEAS", fields: { v: "3301;3302", f: "0" } },
    });
  });

  it("detects every single-character corruption and every adjacent swap", () => {
    const line = encodeFrame({
      dir: "from_board",
      address: 7,
      seq: 42,
      type: "MEAS",
      fields: { v: "3301;3312;3299" },
    }).trimEnd();
    fc.assert(
      fc.property(fc.nat(line.length - 1), fc.integer({ min: 0x20, max: 0x7e }), (pos, code) => {
        const ch = String.fromCharCode(code);
        fc.pre(line[pos] !== ch);
        const bad = line.slice(0, pos) + ch + line.slice(pos + 1);
        expect(decodeLine(bad).ok).toBe(false);
      }),
    );
    for (let i = 0; i + 1 < line.indexOf("*"); i++) {
      if (line[i] === line[i + 1]) continue;
      const swapped = line.slice(0, i) + line[i + 1] + line[i] + line.slice(i + 2);
      expect(decodeLine(swapped).ok).toBe(false);
    }
  });

  it("classifies checksum and format errors and never throws on garbage", () => {
    const good = encodeFrame({ dir: "from_board", address: 1, seq: 1, type: "ACK", fields: {} }).trimEnd();
    expect(decodeLine(`${good.slice(0, -1)}${good.endsWith("0") ? "1" : "0"}`)).toEqual({
      ok: false,
      error: "checksum",
    });
    expect(decodeLine("hello")).toEqual({ ok: false, error: "format" });
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const r = decodeLine(s);
        expect(typeof r.ok).toBe("boolean");
      }),
    );
  });
});

describe("messages", () => {
  const info: BoardInfo = {
    firmware: "1.2.3",
    protocol: 1,
    cells: 3,
    temps: 1,
    measuresCurrent: true,
    controlsFets: false,
    balancing: true,
    bleedResistorOhm: 33,
    maxBalancing: 2,
    hardwareProtections: ["cell_ov", "short_circuit"],
  };
  it("round-trips INFO", () => {
    expect(parseInfo(encodeInfo(info))).toEqual(info);
  });
  it("rejects a MEAS whose cell count disagrees with INFO", () => {
    const base = { v: "3300;3301;3302", t: "250", i: "-5", f: "0", bal: "0", st: "0" };
    expect(parseMeasurement(base, info)?.cellVoltagesMv).toEqual([3300, 3301, 3302]);
    expect(parseMeasurement({ ...base, v: "3300;3301" }, info)).toBeNull();
    expect(parseMeasurement({ ...base, i: "x" }, info)).toBeNull();
  });
});

describe("bounded line framer", () => {
  it("drops a 10 kB line without newline, counts it, and keeps memory fixed", () => {
    const lines: string[] = [];
    const f = new LineFramer(512, (l) => lines.push(l));
    const junk = new Uint8Array(10_240).fill(0x41);
    for (let i = 0; i < 10; i++) f.push(junk);
    expect(f.counters.overlong).toBe(1);
    f.push(new TextEncoder().encode("tail-of-junk\nok line\r\n"));
    // The tail after the overflow belongs to the dropped line; only the next line survives.
    expect(lines).toEqual(["ok line"]);
    expect(f.counters.overlong).toBe(1);
  });

  it("counts non-ASCII lines and partial lines at reset", () => {
    const lines: string[] = [];
    const f = new LineFramer(64, (l) => lines.push(l));
    f.push(Uint8Array.from([0x41, 0xff, 0x42, 0x0a, 0x43]));
    expect(f.counters.nonAscii).toBe(1);
    expect(f.reset()).toBe(true);
    expect(f.counters.truncated).toBe(1);
    f.push(new TextEncoder().encode("D\n"));
    expect(lines).toEqual(["D"]);
  });

  it("yields the same lines however the byte stream is chunked", () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[ -~]{1,40}$/), { minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 50 }),
        (lines, cuts) => {
          const bytes = new TextEncoder().encode(lines.map((l) => `${l}\n`).join(""));
          const got: string[] = [];
          const f = new LineFramer(64, (l) => got.push(l));
          let at = 0;
          for (let k = 0; at < bytes.length; k++) {
            const n = cuts[k % cuts.length]!;
            f.push(bytes.subarray(at, at + n));
            at += n;
          }
          expect(got).toEqual(lines);
        },
      ),
    );
  });
});
