/**
 * A byte link to a serial device (UART, RS-485 adapter, pseudo-terminal, or an in-memory
 * pair in tests). The real one wraps `serialport` in src/hal/node/serial.ts.
 */
export interface SerialLink {
  readonly path: string;
  readonly isOpen: boolean;
  write(data: string | Uint8Array): Promise<void>;
  /** Subscribes to received bytes; returns an unsubscribe function. */
  onData(listener: (chunk: Uint8Array) => void): () => void;
  /** Called once when the link closes or fails (device unplugged); `err` says why. */
  onClose(listener: (err?: Error) => void): () => void;
  close(): Promise<void>;
}

export interface SerialLinkOptions {
  readonly path: string;
  readonly baudRate: number;
  readonly dataBits?: 7 | 8;
  readonly parity?: "none" | "even" | "odd";
  readonly stopBits?: 1 | 2;
}

export type SerialLinkFactory = (options: SerialLinkOptions) => Promise<SerialLink>;
