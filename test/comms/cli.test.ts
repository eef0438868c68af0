import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/modbus.js";
import { type ModbusHandle, startModbus } from "../../src/comms/server.js";
import { silentLogger } from "../../src/core/logger.js";
import { realLoop } from "./helpers.js";

async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    const code = await main(argv);
    return { code, out };
  } finally {
    spy.mockRestore();
  }
}

describe("ups-bms modbus (modbus-serial client)", () => {
  let loop: Awaited<ReturnType<typeof realLoop>>;
  let server: ModbusHandle;
  let port: string;

  beforeAll(async () => {
    loop = await realLoop({ modbus: { tcp: { port: 0 } } });
    server = await startModbus(loop.bms, loop.config, { logger: silentLogger });
    port = String(server.tcpPort);
  });
  afterAll(async () => {
    await server?.close();
  });

  it("status --json decodes the UPS block of the running loop", async () => {
    const { code, out } = await capture(["status", "--port", port, "--json"]);
    expect(code).toBe(0);
    const d = JSON.parse(out);
    const snap = loop.bms.snapshot!;
    expect(d.SoC).toBe(Math.round(snap.estimates.reportedSocPct * 10));
    expect(d.CellCount).toBe(loop.config.pack.cellsInSeries);
    expect(d.PackA).toBe(Math.round(snap.measurements.packCurrentMa / 100));
  });

  it("status prints readable lines", async () => {
    const { out } = await capture(["status", "--port", port]);
    expect(out).toMatch(/^state\s+connected/m);
    expect(out).toMatch(/^limits\s+CVL \d+\.\d V/m);
  });

  it("cells lists every cell voltage", async () => {
    const { out } = await capture(["cells", "--port", port, "--json"]);
    expect(JSON.parse(out).cellsMv).toEqual(loop.bms.snapshot!.measurements.cellVoltagesMv);
  });

  it("reset-alarms queues an alarm reset that the loop takes as a command", async () => {
    const { code } = await capture(["reset-alarms", "--port", port]);
    expect(code).toBe(0);
    const before = loop.events.length;
    await loop.tick();
    expect(loop.events.slice(before).some((e) => e.type === "command" && e.command === "alarm_reset")).toBe(
      true,
    );
  });

  it("fails with USAGE for unknown commands and COMMS when nobody listens", async () => {
    await expect(main(["explode"])).rejects.toMatchObject({ code: "USAGE" });
    await expect(main(["status", "--port", "0x"])).rejects.toMatchObject({ code: "USAGE" });
    await expect(main(["status", "--port", "1", "--timeout", "500"])).rejects.toMatchObject({
      code: "COMMS",
    });
  });
});
