// Writes the generated docs from the compiled code (run via `npm run docs`).
import { writeFileSync } from "node:fs";
import { renderRegistersMarkdown } from "../dist/comms/docs.js";
import { renderConfigDocs } from "../dist/config/docs.js";

const outputs = [
  ["docs/config.md", renderConfigDocs()],
  ["docs/registers.md", renderRegistersMarkdown()],
];
for (const [path, text] of outputs) {
  writeFileSync(new URL(`../${path}`, import.meta.url), text);
  console.log(`wrote ${path}`);
}
