/**
 * The one place that loads better-sqlite3. It is loaded on first use (not at import time), so
 * the BMS core runs on a controller without the native module: the recorder then reports
 * itself unhealthy instead of taking the loop down.
 */
import { createRequire } from "node:module";
import type BetterSqlite3 from "better-sqlite3";
import { BmsError } from "../core/errors.js";

export type Db = BetterSqlite3.Database;
type DbCtor = typeof BetterSqlite3;

let ctor: DbCtor | null = null;

function loadDriver(): DbCtor {
  if (ctor) return ctor;
  try {
    // Synchronous require keeps the recorder's API synchronous (restore() at start-up).
    ctor = createRequire(import.meta.url)("better-sqlite3") as DbCtor;
    return ctor;
  } catch (err) {
    throw new BmsError(
      "NATIVE_MODULE_MISSING",
      "better-sqlite3 is not installed: recording needs it (npm install better-sqlite3@12)",
      { cause: err },
    );
  }
}

export interface OpenOptions {
  readonly readonly?: boolean;
  readonly fileMustExist?: boolean;
}

export function openSqlite(path: string, options: OpenOptions = {}): Db {
  const Database = loadDriver();
  try {
    return new Database(path, {
      readonly: options.readonly ?? false,
      fileMustExist: options.fileMustExist ?? false,
    });
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    throw new BmsError("RECORD", `cannot open database ${path}: ${(err as Error).message}`, {
      cause: err,
      path,
      details: { sqliteCode: code },
    });
  }
}
