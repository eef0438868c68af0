import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BmsConfig, parseConfig } from "../../src/config/schema.js";
import type { RecordConfig } from "../../src/config/sections.js";
import { createMemoryLogger } from "../../src/core/logger.js";
import { main as logMain } from "../../src/cli/log.js";
import type { BmsEvent } from "../../src/core/events.js";
import { createRecorder, SyntheticSource, syntheticSnapshot } from "../../src/record/index.js";
import type { RecorderDeps } from "../../src/record/types.js";
import { ManualClock } from "../../src/time/clock.js";
import { vi } from "vitest";

export const WALL0 = Date.UTC(2026, 0, 1, 0, 0, 0);

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "ups-bms-record-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function configWith(record: Partial<RecordConfig>): BmsConfig {
  return parseConfig({ record });
}

/** A recorder on a manual clock whose wall time is WALL0 + clock time. */
export function manualRecorder(record: Partial<RecordConfig>, extra: Partial<RecorderDeps> = {}) {
  const clock = new ManualClock(0);
  const { logger, lines } = createMemoryLogger("test", "debug");
  const config = configWith(record);
  const recorder = createRecorder(config, {
    logger,
    clock,
    wallNowMs: () => WALL0 + clock.nowMs(),
    autoFlush: false,
    writer: "inline",
    ...extra,
  });
  return { clock, recorder, lines, config };
}

export const ROOT = join(import.meta.dirname, "..", "..");

/** dist/ is built by `npm test` (pretest); a direct vitest run rebuilds it when src is newer. */
const sleepSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

function distIsFresh(): boolean {
  const out = join(ROOT, "dist", "record", "recorder.js");
  const newest = (dir: string): number =>
    Math.max(
      ...readdirSync(dir, { withFileTypes: true }).map((d) =>
        d.isDirectory() ? newest(join(dir, d.name)) : statSync(join(dir, d.name)).mtimeMs,
      ),
    );
  return existsSync(out) && statSync(out).mtimeMs >= newest(join(ROOT, "src"));
}

/**
 * dist/ is built by `npm test` (pretest); a direct vitest run rebuilds it when src is newer.
 * A lock directory keeps test files running in parallel from building at the same time.
 */
export function ensureBuilt(): void {
  if (distIsFresh()) return;
  mkdirSync(join(ROOT, "dist"), { recursive: true });
  const lock = join(ROOT, "dist", ".record-test-build.lock");
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (distIsFresh()) return;
      // A lock left by a killed run is stale after two minutes.
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 120_000) rmSync(lock, { force: true, recursive: true });
      sleepSync(200);
    }
  }
  try {
    if (!distIsFresh())
      execFileSync(
        process.execPath,
        [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"],
        {
          cwd: ROOT,
          stdio: "inherit",
        },
      );
  } finally {
    rmSync(lock, { force: true, recursive: true });
  }
}

/**
 * Records `ticks` synthetic 4-cell snapshots at 250 ms into `path`, emitting the events
 * `eventsAt(t)` returns at clock time t, with a commit every second; closes the database.
 */
export function recordSyntheticRun(
  record: Partial<RecordConfig> & { path: string },
  ticks: number,
  eventsAt: (tMs: number) => readonly BmsEvent[],
): void {
  const { clock, recorder } = manualRecorder(record);
  const src = new SyntheticSource();
  recorder.attach(src);
  for (let i = 0; i < ticks; i++) {
    const t = clock.nowMs();
    for (const e of eventsAt(t)) src.emit(e);
    src.publish(syntheticSnapshot(i + 1, t, { cells: 4 }));
    clock.advance(250);
    if (i % 4 === 3) recorder.poll();
  }
  recorder.close();
}

/** Runs `ups-bms log …` in-process: its exit code and what it wrote to stdout (stderr silenced). */
export async function runLog(args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    const code = await logMain(args);
    return { code, out };
  } finally {
    vi.restoreAllMocks();
  }
}
