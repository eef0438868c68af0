import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BmsConfig, parseConfig } from "../../src/config/schema.js";
import type { RecordConfig } from "../../src/config/sections.js";
import { createMemoryLogger } from "../../src/core/logger.js";
import { createRecorder } from "../../src/record/index.js";
import type { RecorderDeps } from "../../src/record/types.js";
import { ManualClock } from "../../src/time/clock.js";

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
    ...extra,
  });
  return { clock, recorder, lines, config };
}
