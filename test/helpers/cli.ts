import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (npm test builds dist first) with a hard time limit. */
export function runCli(
  args: string[],
  options: { timeoutMs?: number; input?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    const out: CliResult = { code: null, signal: null, stdout: "", stderr: "" };
    child.stdout.on("data", (d) => {
      out.stdout += d;
    });
    child.stderr.on("data", (d) => {
      out.stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `ups-bms ${args.join(" ")} did not finish in ${options.timeoutMs ?? 20_000} ms\n${out.stderr}`,
        ),
      );
    }, options.timeoutMs ?? 20_000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ ...out, code, signal });
    });
    child.stdin.end(options.input ?? "");
  });
}

/** Starts the CLI and resolves once stdout has printed a line matching `ready`. */
export function startCli(
  args: string[],
  ready: RegExp,
  timeoutMs = 15_000,
): Promise<{ child: ChildProcess; out: CliResult }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const out: CliResult = { code: null, signal: null, stdout: "", stderr: "" };
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no line matching ${ready} within ${timeoutMs} ms\n${out.stdout}\n${out.stderr}`));
    }, timeoutMs);
    child.stdout!.on("data", (d) => {
      out.stdout += d;
      if (ready.test(out.stdout)) {
        clearTimeout(timer);
        resolve({ child, out });
      }
    });
    child.stderr!.on("data", (d) => {
      out.stderr += d;
    });
    child.on("close", (code, signal) => {
      out.code = code;
      out.signal = signal;
    });
  });
}
