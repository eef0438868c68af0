import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderConfigDocs } from "../../src/config/docs.js";

describe("generated docs", () => {
  it("docs/config.md matches the schema (run `npm run docs` after changing src/config)", () => {
    const onDisk = readFileSync(new URL("../../docs/config.md", import.meta.url), "utf8");
    expect(onDisk).toBe(renderConfigDocs());
  });
});
