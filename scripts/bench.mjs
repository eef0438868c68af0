// `npm run bench`: runs every benchmark and accuracy script in scripts/bench/ (each exports
// `bench()`), prints their figures and writes them to .bench/results.json.
// `npm run bench -- loop sim` runs only the named ones.
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";

const only = process.argv.slice(2);
const dir = new URL("./bench/", import.meta.url);
const names = readdirSync(dir)
  .filter((f) => f.endsWith(".mjs"))
  .map((f) => f.slice(0, -4))
  .sort((a, b) => (a === "loop" ? -1 : b === "loop" ? 1 : a.localeCompare(b)))
  .filter((n) => only.length === 0 || only.includes(n));

const results = {};
let failed = 0;
for (const name of names) {
  console.log(`\n=== ${name} ===`);
  const t0 = performance.now();
  try {
    const mod = await import(new URL(`${name}.mjs`, dir));
    results[name] = await mod.bench();
  } catch (err) {
    failed++;
    results[name] = { error: String(err?.stack ?? err) };
    console.log(`FAILED: ${err?.stack ?? err}`);
  }
  console.log(`(${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
mkdirSync(new URL("../.bench/", import.meta.url), { recursive: true });
writeFileSync(new URL("../.bench/results.json", import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwrote .bench/results.json${failed ? `; ${failed} benchmark(s) failed` : ""}`);
process.exitCode = failed ? 1 : 0;
