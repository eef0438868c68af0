import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { simFaultSchema } from "../../src/hal/sim/faults.js";
import { timelineEntrySchema } from "../../src/hal/sim/scenario.js";

const doc = readFileSync(new URL("../../docs/scenarios.md", import.meta.url), "utf8");

describe("docs/scenarios.md", () => {
  it("documents every timeline action and every fault kind the schema accepts", () => {
    const actions = timelineEntrySchema.options.map((o) => o.shape.action.value);
    const kinds = simFaultSchema.options.map((o) => o.shape.kind.value);
    expect(actions.length).toBeGreaterThan(5);
    for (const a of actions) expect(doc).toContain(`| \`${a}\` |`);
    for (const k of kinds) expect(doc).toContain(`| \`${k}\` |`);
  });
});
