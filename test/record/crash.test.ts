/**
 * kill -9 during heavy writing, 100 times: after every kill the database passes
 * `PRAGMA integrity_check`, every event the writer saw committed is there, and the state the
 * next start restores is the last one persisted. The writer is the built code (dist/).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqlite } from "../../src/record/sqlite.js";
import { ensureBuilt, tempDir } from "./helpers.js";

const WRITER = join(import.meta.dirname, "fixtures", "crash-writer.mjs");
const KILLS = 100;
const LANES = 4;
const BATCH = 20;

const stateFor = (seq: number) => ({
  monitor: { seq, socPct: Math.round((50 + 40 * Math.sin(seq / 97)) * 1000) / 1000, ekfP: [seq % 7, 0.5] },
  protection: { latched: seq % 3 === 0 ? ["short_circuit"] : [] },
});

interface RunResult {
  restoredLine: unknown;
  lastCommit: { seq: number; lastEv: number } | null;
}

/** One writer life: start, let it write for a random moment, kill -9. */
function runOnce(dbPath: string, rnd: () => number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [WRITER, dbPath], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let killed = false;
    const kill = () => {
      if (!killed) {
        killed = true;
        child.kill("SIGKILL");
      }
    };
    // Mostly mid-write; one in five at a random moment from spawn (open, recovery, migration).
    const earlyKill = rnd() < 0.2;
    const earlyTimer = earlyKill ? setTimeout(kill, 20 + rnd() * 150) : null;
    const guard = setTimeout(kill, 5000);
    let armed = false;
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      // Commits are flowing: kill at a random moment within the next ~60 ms of writing.
      if (!armed && !earlyKill && out.includes("\nC ")) {
        armed = true;
        setTimeout(kill, rnd() * 60);
      }
    });
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (earlyTimer) clearTimeout(earlyTimer);
      clearTimeout(guard);
      if (signal !== "SIGKILL") {
        reject(new Error(`writer exited by itself (code ${code}): ${err}`));
        return;
      }
      const lines = out.split("\n");
      // A line cut by the kill is incomplete: only whole lines count.
      lines.pop();
      const r = lines.find((l) => l.startsWith("R "));
      const commits = lines.filter((l) => l.startsWith("C "));
      const last = commits.at(-1)?.split(" ");
      resolve({
        restoredLine: r === undefined ? undefined : JSON.parse(r.slice(2)),
        lastCommit: last ? { seq: Number(last[1]), lastEv: Number(last[2]) } : null,
      });
    });
  });
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Persisted {
  seq: number;
  monitor: unknown;
  protection: unknown;
}

/** What the parent finds after a kill; checks integrity and the committed events. */
function inspect(dbPath: string, committedSeq: number, committedEv: number): Persisted | null {
  const db = openSqlite(dbPath);
  try {
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    const hasState = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'state'").get();
    if (!hasState) {
      expect(committedSeq).toBe(0);
      return null;
    }
    const row = db.prepare("SELECT value FROM state WHERE key = 'bms'").get() as
      | { value: string }
      | undefined;
    const names = new Set(
      (db.prepare("SELECT data FROM events WHERE type = 'command'").all() as { data: string }[]).map(
        (r) => (JSON.parse(r.data) as { command: string }).command,
      ),
    );
    const missing: number[] = [];
    for (let s = 5; s <= committedEv; s += 5) if (!names.has(`e${s}`)) missing.push(s);
    expect(missing).toEqual([]);
    if (!row) {
      expect(committedSeq).toBe(0);
      return null;
    }
    const v = JSON.parse(row.value) as Persisted;
    return v;
  } finally {
    db.close();
  }
}

describe("kill -9 during heavy writing", () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    ensureBuilt();
    tmp = tempDir();
  });
  afterAll(() => tmp.cleanup());

  it(`survives ${KILLS} kills with integrity, committed events and restorable state`, async () => {
    const lane = async (l: number) => {
      const rnd = mulberry32(1000 + l);
      const dbPath = join(tmp.dir, `lane${l}.db`);
      let durableSeq = 0;
      let durableEv = 0;
      let expectRestored: Persisted | null = null;
      let midWriteKills = 0;
      for (let i = 0; i < KILLS / LANES; i++) {
        const r = await runOnce(dbPath, rnd);
        // What the writer restored at start is what the parent found after the previous kill.
        if (r.restoredLine !== undefined) {
          const got = r.restoredLine as Persisted | null;
          if (expectRestored === null) expect(got).toBeNull();
          else
            expect({ seq: got?.seq, monitor: got?.monitor, protection: got?.protection }).toEqual(
              expectRestored,
            );
        }
        if (r.lastCommit) {
          midWriteKills++;
          durableSeq = r.lastCommit.seq;
          durableEv = Math.max(durableEv, r.lastCommit.lastEv);
        }
        const found = inspect(dbPath, durableSeq, durableEv);
        if (found) {
          // The last persisted state: the last acknowledged commit, or the one after it when the
          // kill fell between the commit and its acknowledgement.
          expect([durableSeq, durableSeq + BATCH]).toContain(found.seq);
          expect(found.monitor).toEqual(stateFor(found.seq).monitor);
          expect(found.protection).toEqual(stateFor(found.seq).protection);
          durableSeq = found.seq;
          expectRestored = { seq: found.seq, monitor: found.monitor, protection: found.protection };
        }
      }
      return { midWriteKills, durableSeq };
    };
    const results = await Promise.all(Array.from({ length: LANES }, (_, l) => lane(l)));
    const killedMidWrite = results.reduce((a, r) => a + r.midWriteKills, 0);
    // Most kills landed while commits were flowing, and every lane made progress across restarts.
    expect(killedMidWrite).toBeGreaterThan(KILLS / 2);
    for (const r of results) expect(r.durableSeq).toBeGreaterThan(BATCH * 10);
  }, 60_000);
});
