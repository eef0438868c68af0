/** Worker-thread host of the HistoryWriter: commits (and their fsyncs) run off the loop's thread. */
import { parentPort, workerData } from "node:worker_threads";
import type { RecordConfig } from "../config/sections.js";
import type { SampleRow } from "./encode.js";
import { HistoryWriter, type WriteBatch } from "./writer.js";

export type WorkerRequest =
  | { readonly kind: "write"; readonly id: number; readonly batch: WriteBatch }
  | { readonly kind: "close"; readonly id: number };

const { path, config } = workerData as { path: string; config: RecordConfig };
const writer = new HistoryWriter(path, config);
const port = parentPort!;

// Structured clone turns Buffers into plain Uint8Arrays; the driver binds Buffers as BLOBs.
const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

port.on("message", (msg: WorkerRequest) => {
  if (msg.kind === "close") {
    try {
      writer.close();
    } finally {
      port.postMessage({ id: msg.id, closed: true });
    }
    return;
  }
  const samples = msg.batch.samples.map(
    (s): SampleRow => ({ ...s, cells: asBuffer(s.cells), temps: asBuffer(s.temps) }),
  );
  const result = writer.write({ ...msg.batch, samples });
  port.postMessage({ id: msg.id, result, quarantined: writer.quarantined });
  writer.quarantined = null;
});
