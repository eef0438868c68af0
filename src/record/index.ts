/** Recording: event log, telemetry history, trip captures and persisted state in SQLite. */
import type { BmsConfig } from "../config/schema.js";
import { createNullRecorder, createRecorder as createSqliteRecorder } from "./recorder.js";
import type { Recorder, RecorderDeps } from "./types.js";

export type {
  RecordableBms,
  Recorder,
  RecorderDeps,
  RecorderStats,
  RestoredState,
} from "./types.js";
export { createNullRecorder } from "./recorder.js";
export { SCHEMA_VERSION } from "./schema.js";

/** The recorder for this config: SQLite when `record.enabled`, a no-op otherwise. */
export function createRecorder(config: BmsConfig, deps: RecorderDeps): Recorder {
  return config.record.enabled ? createSqliteRecorder(config, deps) : createNullRecorder();
}
export {
  HistoryReader,
  EVENT_LEVELS,
  type EventLevelName,
  type StoredEvent,
  type StoredSample,
  type StoredMinute,
  type StoredTrip,
} from "./query.js";
export {
  feedHistory,
  type HistoryFeed,
  syntheticSnapshot,
  SyntheticSource,
  type SyntheticOptions,
} from "./synthetic.js";
