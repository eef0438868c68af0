import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isBmsError } from "../../src/core/errors.js";
import { createMonitor } from "../../src/monitor/monitor.js";
import { createStateFile, type PersistedState } from "../../src/monitor/persist.js";
import { lfpConfig, sample } from "./helpers.js";
import { TruthPack } from "./truth.js";

const dir = mkdtempSync(join(tmpdir(), "ups-bms-monitor-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const quiet = { noiseMv: 0, noiseMa: 0, gain: 1, offsetMa: 0 };

function runFor(
  m: ReturnType<typeof createMonitor>,
  truth: TruthPack,
  fromS: number,
  seconds: number,
  watts: number,
) {
  let out = m.update({ nowMs: fromS * 1000, sample: truth.sample(fromS * 1000, quiet), readError: null });
  for (let t = fromS + 1; t <= fromS + seconds; t++) {
    truth.step(1, watts > 0 ? { kind: "power", watts } : { kind: "rest" });
    out = m.update({ nowMs: t * 1000, sample: truth.sample(t * 1000, quiet), readError: null });
  }
  return out;
}

describe("estimator state", () => {
  it("restores SOC, counters and SOH instead of guessing from voltage", () => {
    const cfg = lfpConfig();
    const truth = new TruthPack("lfp-100ah", 4, 100, 60);
    const a = createMonitor(cfg, { initialSocPct: 60 });
    const before = runFor(a, truth, 0, 1800, 4 * 3.2 * 30);
    const state = JSON.parse(JSON.stringify(a.exportState()));
    const b = createMonitor(cfg, { restoredState: state });
    const after = b.update({ nowMs: 1_801_000, sample: truth.sample(1_801_000, quiet), readError: null });
    expect(after.estimates.socPct).toBeCloseTo(before.estimates.socPct, 9);
    expect(after.estimates.counters.chargeOutAh).toBeCloseTo(before.estimates.counters.chargeOutAh, 9);
    // A cold start on the LFP plateau would have guessed something else from the voltage.
    const cold = createMonitor(cfg).update({ nowMs: 0, sample: truth.sample(0, quiet), readError: null });
    expect(Math.abs(cold.estimates.socPct - before.estimates.socPct)).toBeGreaterThan(2);
  });

  it("ignores an unusable state and says so", () => {
    const lines: string[] = [];
    const logger = {
      level: "debug" as const,
      debug: () => {},
      info: () => {},
      warn: (m: unknown) => lines.push(String(m)),
      error: () => {},
      child() {
        return logger;
      },
    };
    const m = createMonitor(lfpConfig(), { restoredState: { version: 1, socPct: "full" }, logger });
    const out = m.update({ nowMs: 0, sample: sample(0), readError: null });
    expect(lines.some((l) => l.includes("ignoring unusable estimator state"))).toBe(true);
    expect(out.estimates.ready).toBe(true);
  });

  it("writes atomically and round-trips through the file; the monitor saves on its own schedule", async () => {
    const path = join(dir, "sub", "state.json");
    const file = createStateFile(path);
    expect(await file.load()).toBeNull();
    const cfg = lfpConfig({ monitor: { persistEveryMs: 10_000 } });
    const saved: PersistedState[] = [];
    const m = createMonitor(cfg, {
      initialSocPct: 70,
      stateSink: {
        save(s) {
          saved.push(s);
          file.save(s);
        },
      },
    });
    runFor(m, new TruthPack("lfp-100ah", 4, 100, 70), 0, 35, 4 * 3.2 * 50);
    // First valid tick, then every 10 s of sample time: t = 0, 10, 20, 30.
    expect(saved.map((s) => s.tMs)).toEqual([0, 10_000, 20_000, 30_000]);
    await file.flush();
    const back = await file.load();
    expect(back).toEqual(saved.at(-1));
    expect(existsSync(`${path}.tmp`)).toBe(false);
    writeFileSync(path, "{ torn");
    await expect(file.load()).rejects.toSatisfy((e: unknown) => isBmsError(e, "PERSIST"));
  });
});

describe("kill -9 during writes", () => {
  const dist = new URL("../../dist/monitor/persist.js", import.meta.url);
  beforeAll(() => {
    if (!existsSync(dist)) execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { timeout: 120_000 });
  }, 130_000);

  it("always leaves a complete state (the old one or the new one)", async () => {
    for (let round = 0; round < 3; round++) {
      const path = join(dir, `kill-${round}.json`);
      const script = `
        import { createStateFile } from ${JSON.stringify(dist.href)};
        const f = createStateFile(${JSON.stringify(path)});
        const base = JSON.parse(process.argv[1]);
        for (let i = 0; ; i++) await f.write({ ...base, socPct: i % 100, tMs: i, pol: { v1: i, v2: 0, h: 0 } });
      `;
      const base = createMonitor(lfpConfig(), { initialSocPct: 50 }).exportState();
      const child: ChildProcess = spawn(
        process.execPath,
        ["--input-type=module", "-e", script, JSON.stringify(base)],
        {
          stdio: "ignore",
        },
      );
      try {
        const deadline = Date.now() + 10_000;
        while (!existsSync(path) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        await new Promise((r) => setTimeout(r, 50 + round * 70));
      } finally {
        child.kill("SIGKILL");
      }
      await new Promise((r) => child.once("exit", r));
      const state = await createStateFile(path).load();
      expect(state).not.toBeNull();
      expect(state!.socPct).toBe(state!.tMs % 100);
      expect(state!.pol.v1).toBe(state!.tMs);
      expect(JSON.parse(readFileSync(path, "utf8")).version).toBe(1);
    }
  }, 40_000);
});

describe("createPersistentMonitor", () => {
  it("restores from monitor.persistPath and keeps saving there; survives a corrupt file", async () => {
    const { createPersistentMonitor } = await import("../../src/monitor/index.js");
    const { createMemoryLogger } = await import("../../src/core/logger.js");
    const path = join(dir, "persistent.json");
    const cfg = lfpConfig({ monitor: { persistPath: path, persistEveryMs: 1000 } });
    const { logger, lines } = createMemoryLogger();
    const truth = new TruthPack("lfp-100ah", 4, 100, 40);
    const first = await createPersistentMonitor(cfg, { logger, initialSocPct: 40 });
    const out = runFor(first.monitor, truth, 0, 600, 4 * 3.2 * 40);
    first.stateFile!.save(first.monitor.exportState() as PersistedState);
    await first.stateFile!.flush();
    const second = await createPersistentMonitor(cfg, { logger });
    const again = second.monitor.update({ nowMs: 0, sample: truth.sample(0, quiet), readError: null });
    expect(again.estimates.socPct).toBeCloseTo(out.estimates.socPct, 9);
    expect(lines.some((l) => l.text.includes("restored"))).toBe(true);
    writeFileSync(path, "garbage");
    const third = await createPersistentMonitor(cfg, { logger });
    expect(
      third.monitor.update({ nowMs: 0, sample: truth.sample(0, quiet), readError: null }).estimates.ready,
    ).toBe(true);
    expect(lines.some((l) => l.level === "warn" && l.text.includes("starting from the cell voltages"))).toBe(
      true,
    );
  });
});
