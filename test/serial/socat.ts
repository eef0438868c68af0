import { type ChildProcess, spawn, spawnSync } from "node:child_process";

export const hasSocat = spawnSync("socat", ["-V"], { stdio: "ignore" }).status === 0;

export interface PtyPair {
  readonly proc: ChildProcess;
  /** The /dev/pts paths socat reported on stderr. */
  readonly ptys: readonly [string, string];
  stop(): Promise<void>;
}

/**
 * Starts `socat -d -d pty,raw,echo=0,link=A pty,raw,echo=0,link=B` and resolves once both
 * pseudo-terminals exist. The link names survive a restart, like a udev name for a USB adapter.
 */
export function startPtyPair(linkA: string, linkB: string, timeoutMs = 5000): Promise<PtyPair> {
  const proc = spawn("socat", ["-d", "-d", `pty,raw,echo=0,link=${linkA}`, `pty,raw,echo=0,link=${linkB}`], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once("exit", () => resolve());
      proc.kill("SIGTERM");
    });
  return new Promise((resolve, reject) => {
    let err = "";
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`socat did not start within ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    proc.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    proc.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
      const ptys = [...err.matchAll(/PTY is (\/dev\/\S+)/g)].map((m) => m[1]!);
      if (ptys.length >= 2 && err.includes("starting data transfer loop")) {
        clearTimeout(timer);
        resolve({ proc, ptys: [ptys[0]!, ptys[1]!], stop });
      }
    });
  });
}
