/**
 * Estimator state that survives restarts. The file store writes a temporary file, fsyncs
 * it, renames it over the old one and fsyncs the directory, so after kill -9 or a power
 * cut the file is either the old state or the new one, never a torn mix.
 */
import { mkdir, open, readFile, rename, unlink } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { z } from "zod";
import { BmsError } from "../core/errors.js";

export const STATE_VERSION = 1;

const finite = z.number().refine(Number.isFinite, "must be finite");

export const persistedStateSchema = z.object({
  version: z.literal(STATE_VERSION),
  /** Sample time of the state, ms (the clock of the run that saved it). */
  tMs: finite,
  socPct: finite.min(0).max(100),
  fullConfirmed: z.boolean(),
  uncertaintyPct: finite.min(0),
  pol: z.object({ v1: finite, v2: finite, h: finite }),
  ekf: z.object({ pSs: finite, pSv: finite, pVv: finite }),
  soh: z.object({
    capacityAh: finite.positive(),
    rScale: finite.positive(),
    anchorSocPct: finite.nullable(),
    ahSinceAnchor: finite,
    capacityLearnings: z.number().int().min(0),
    resistanceSamples: z.number().int().min(0),
  }),
  counters: z.object({
    chargeInAh: finite.min(0),
    chargeOutAh: finite.min(0),
    energyInWh: finite.min(0),
    energyOutWh: finite.min(0),
  }),
  learnedOffsetMa: finite,
});
export type PersistedState = z.infer<typeof persistedStateSchema>;

/** Where the monitor hands its state; saving must not block the loop. */
export interface StateSink {
  save(state: PersistedState): void;
}

export interface StateFile extends StateSink {
  readonly path: string;
  /** The stored state, null when there is none. Throws BmsError PERSIST when unreadable. */
  load(): Promise<PersistedState | null>;
  loadSync(): PersistedState | null;
  /** Writes now; resolves once the new file is durable. */
  write(state: PersistedState): Promise<void>;
  /** Resolves when no write is in flight (for shutdown). */
  flush(): Promise<void>;
}

function parse(text: string, path: string): PersistedState {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BmsError("PERSIST", `estimator state ${path} is not valid JSON`, { path, cause: err });
  }
  const r = persistedStateSchema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    throw new BmsError(
      "PERSIST",
      `estimator state ${path} is invalid: ${first?.path.join(".")} ${first?.message}`,
      {
        path,
      },
    );
  }
  return r.data;
}

export function createStateFile(path: string, onError?: (err: BmsError) => void): StateFile {
  const tmp = `${path}.tmp`;
  let inFlight: Promise<void> | null = null;
  let pending: PersistedState | null = null;

  const write = async (state: PersistedState): Promise<void> => {
    const text = `${JSON.stringify(state)}\n`;
    await mkdir(dirname(path), { recursive: true });
    const fh = await open(tmp, "w");
    try {
      await fh.writeFile(text, "utf8");
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    try {
      const dh = await open(dirname(path), "r");
      try {
        await dh.sync();
      } finally {
        await dh.close();
      }
    } catch {
      // Some filesystems refuse fsync on a directory; the rename is still atomic.
    }
  };

  const drain = async (): Promise<void> => {
    while (pending) {
      const s = pending;
      pending = null;
      await write(s);
    }
  };

  return {
    path,
    async load() {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw new BmsError("PERSIST", `cannot read estimator state ${path}`, { path, cause: err });
      }
      return parse(text, path);
    },
    loadSync() {
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw new BmsError("PERSIST", `cannot read estimator state ${path}`, { path, cause: err });
      }
      return parse(text, path);
    },
    write,
    save(state) {
      // Latest wins: a save during a write replaces any queued one.
      pending = state;
      if (inFlight) return;
      inFlight = drain()
        .catch((err: unknown) => {
          unlink(tmp).catch(() => {});
          onError?.(new BmsError("PERSIST", `cannot write estimator state ${path}`, { path, cause: err }));
        })
        .finally(() => {
          inFlight = null;
        });
    },
    async flush() {
      while (inFlight) await inFlight;
    },
  };
}
