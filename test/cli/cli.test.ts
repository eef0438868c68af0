import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { runCli, startCli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "ups-bms-cli-"));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

// Runs in tests listen on a free port so parallel test files never collide on 1502.
const runConfig = () =>
  file("run.json", JSON.stringify({ modbus: { tcp: { port: 0 } }, record: { path: join(dir, "run.db") } }));

describe("ups-bms command line", () => {
  it("config check accepts a valid file", async () => {
    const r = await runCli([
      "config",
      "check",
      file("ok.json", JSON.stringify({ pack: { chemistry: "nmc" } })),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ok \(nmc, 16 cells/);
  });

  it("config check lists every problem with its field and exits 2", async () => {
    const p = file(
      "bad.json",
      JSON.stringify({ pack: { cellsInSeries: 0 }, protection: { cellOv: { trip: { reset: 3700 } } } }),
    );
    const r = await runCli(["config", "check", p]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("pack.cellsInSeries");
    expect(r.stderr).toContain("protection.cellOv.trip.reset");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("malformed JSON gets one clear line, exit 2, no stack trace", async () => {
    const r = await runCli(["run", "--config", file("broken.json", '{ "pack": ')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/broken\.json is not valid JSON/);
  });

  it("an unknown flag gets one clear line and exit 2", async () => {
    const r = await runCli(["run", "--turbo"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("unknown option --turbo");
  });

  it("an unknown command exits 2", async () => {
    const r = await runCli(["fly"]);
    expect(r.code).toBe(2);
  });

  it("config schema prints a JSON Schema", async () => {
    const r = await runCli(["config", "schema"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).title).toBe("ups-bms configuration");
  });

  it("run --duration stops by itself with exit 0 and prints status lines at most once a second", async () => {
    const r = await runCli(["run", "--config", runConfig(), "--duration", "2.2"], { timeoutMs: 20_000 });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.length).toBeLessThanOrEqual(4);
    expect(lines[0]).toMatch(
      /^t=0s (standby|charging|discharging) \d+\.\d\d V [+-]\d+\.\d\d A SOC \d+\.\d % cells \d+\.\.\d+ mV/,
    );
  });

  it("serves Modbus while running, and SIGTERM shuts down cleanly: FETs open, exit 0", async () => {
    const { child, out } = await startCli(["run", "--config", runConfig()], /t=1s/);
    const port = /listening on 127\.0\.0\.1:(\d+)/.exec(out.stderr)?.[1];
    expect(port).toBeDefined();
    const status = await runCli(["modbus", "status", "--port", port!, "--json"]);
    expect(status.code).toBe(0);
    const json = JSON.parse(status.stdout);
    expect(JSON.stringify(json)).toMatch(/soc/i);
    child.kill("SIGTERM");
    const [code] = await once(child, "close");
    expect(code).toBe(0);
    expect(out.stderr).toMatch(/stopped \(signal SIGTERM\).*FETs open/);
  });
});
