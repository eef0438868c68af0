/**
 * Two SerialLinks joined back to back, for the in-process simulated board and for tests.
 * Delivery is synchronous: a write reaches the peer's listeners before `write` resolves, so
 * a board's reply is in before the controller ever starts a timeout (which matters on an
 * auto-advancing simulation clock). Several listeners on one end model several boards on one
 * RS-485 line.
 */
import { BmsError } from "../../core/errors.js";
import type { SerialLink } from "../serial.js";

export interface MemoryLink extends SerialLink {
  /** Simulates the device vanishing (USB unplug): both ends close with an error. */
  unplug(): void;
}

interface End {
  open: boolean;
  data: Set<(chunk: Uint8Array) => void>;
  close: Set<(err?: Error) => void>;
}

const encoder = new TextEncoder();

export function createLinkPair(path = "memory"): { readonly a: MemoryLink; readonly b: MemoryLink } {
  const ends: [End, End] = [
    { open: true, data: new Set(), close: new Set() },
    { open: true, data: new Set(), close: new Set() },
  ];
  const shut = (err?: Error): void => {
    for (const e of ends) {
      if (!e.open) continue;
      e.open = false;
      const listeners = [...e.close];
      e.close.clear();
      e.data.clear();
      for (const l of listeners) l(err);
    }
  };
  const make = (self: End, peer: End): MemoryLink => ({
    path,
    get isOpen() {
      return self.open;
    },
    async write(data) {
      if (!self.open || !peer.open) throw new BmsError("COMMS", `write to closed link ${path}`);
      const bytes = typeof data === "string" ? encoder.encode(data) : data;
      for (const l of [...peer.data]) l(bytes);
    },
    onData(listener) {
      self.data.add(listener);
      return () => self.data.delete(listener);
    },
    onClose(listener) {
      self.close.add(listener);
      return () => self.close.delete(listener);
    },
    async close() {
      shut();
    },
    unplug() {
      shut(new BmsError("BUS_UNAVAILABLE", `${path} disconnected`));
    },
  });
  return { a: make(ends[0], ends[1]), b: make(ends[1], ends[0]) };
}
