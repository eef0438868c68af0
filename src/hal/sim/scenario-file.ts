/** Reads a scenario file and the current profiles it names (paths relative to the file). */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { BmsError } from "../../core/errors.js";
import { type CurrentProfile, parseCurrentProfileCsv } from "./profile.js";
import { parseScenario, type Scenario } from "./scenario.js";

export function readJsonFile(path: string, code: "SCENARIO_INVALID" | "CONFIG_INVALID"): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new BmsError(code, `${path}: cannot read (${(err as Error).message})`, { path, cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BmsError(code, `${path}: not valid JSON (${(err as Error).message})`, { path, cause: err });
  }
}

export function loadScenarioFile(path: string): {
  scenario: Scenario;
  profiles: Map<string, CurrentProfile>;
} {
  const scenario = parseScenario(readJsonFile(path, "SCENARIO_INVALID"), path);
  const baseDir = dirname(resolve(path));
  const profiles = new Map<string, CurrentProfile>();
  scenario.timeline.forEach((e, i) => {
    if (e.action !== "profile" || profiles.has(e.file)) return;
    const csvPath = resolve(baseDir, e.file);
    let text: string;
    try {
      text = readFileSync(csvPath, "utf8");
    } catch (err) {
      throw new BmsError(
        "SCENARIO_INVALID",
        `${path}: timeline.${i}.file: cannot read ${csvPath} (${(err as Error).message})`,
        { path: `timeline.${i}.file`, cause: err },
      );
    }
    profiles.set(e.file, parseCurrentProfileCsv(text, e.file));
  });
  return { scenario, profiles };
}
