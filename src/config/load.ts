import { readFile } from "node:fs/promises";
import { BmsError } from "../core/errors.js";
import { type BmsConfig, parseConfig } from "./schema.js";

/** Reads and validates a JSON config file. Every failure is a BmsError naming the file or field. */
export async function loadConfigFile(path: string): Promise<BmsConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BmsError("CONFIG_INVALID", `cannot read config file ${path}: ${code ?? String(err)}`, {
      path,
      cause: err,
    });
  }
  return parseConfigText(text, path);
}

export function parseConfigText(text: string, source = "config"): BmsConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BmsError("CONFIG_INVALID", `${source} is not valid JSON: ${(err as Error).message}`, {
      path: source,
      cause: err,
    });
  }
  return parseConfig(json);
}
