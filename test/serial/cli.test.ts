import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openSerialLink } from "../../src/hal/node/serial.js";
import { createSerialAfeDriver } from "../../src/hal/serial/driver.js";
import { main } from "../../src/cli/serial-board.js";
import { RealClock } from "../../src/time/clock.js";
import { hasSocat, type PtyPair, startPtyPair } from "./socat.js";

describe("ups-bms serial-board", { timeout: 10_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "ups-bms-serial-cli-"));
  let pair: PtyPair | null = null;
  afterAll(async () => {
    await pair?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("rejects a missing --port as a usage error", async () => {
    await expect(main([])).rejects.toMatchObject({ code: "USAGE" });
    await expect(main(["--port", "/x", "--boards", "1-8"])).rejects.toMatchObject({ code: "USAGE" });
  });

  it.skipIf(!hasSocat)("plays two boards on a pty that a controller reads", async () => {
    pair = await startPtyPair(join(dir, "ctrl"), join(dir, "board"));
    const ac = new AbortController();
    const running = main(["--port", join(dir, "board"), "--boards", "1:6,2:6"], { signal: ac.signal });
    const driver = await createSerialAfeDriver({
      port: "ctrl",
      boards: [
        { address: 1, cells: 6 },
        { address: 2, cells: 6 },
      ],
      openLink: () => openSerialLink({ path: join(dir, "ctrl"), baudRate: 115200 }),
      clock: new RealClock(),
      replyTimeoutMs: 300,
      startupAttempts: 10,
      reconnectMs: 200,
    });
    expect(driver.capabilities).toMatchObject({ cellCount: 12, measuresCurrent: true, controlsFets: true });
    const s = await driver.read();
    expect(s.cellVoltagesMv).toHaveLength(12);
    for (const v of s.cellVoltagesMv) expect(v).toBeGreaterThan(2500);
    for (const v of s.cellVoltagesMv) expect(v).toBeLessThan(3700);
    // unplug both ends (socat gone), then the same names come back: the board tool reopens
    // its port by itself and the controller recovers without restarts on either side
    await pair.stop();
    await expect(driver.read()).rejects.toMatchObject({ code: "AFE_COMMS" });
    pair = await startPtyPair(join(dir, "ctrl"), join(dir, "board"));
    const t0 = performance.now();
    let recovered = false;
    while (!recovered && performance.now() - t0 < 4000) {
      recovered = await driver.read().then(
        (r) => r.cellVoltagesMv.every(Number.isFinite),
        () => false,
      );
      if (!recovered) await new Promise((r) => setTimeout(r, 50));
    }
    expect(recovered).toBe(true);
    await driver.close();
    ac.abort();
    await expect(running).resolves.toBe(0);
  });
});
