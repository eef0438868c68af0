/** What the serial driver counts, for `SerialAfeDriver.diagnostics()` (see docs/serial-protocol.md). */
export interface SerialErrorCounters {
  checksum: number;
  format: number;
  overlong: number;
  nonAscii: number;
  resynced: number;
  truncatedAtDisconnect: number;
  unknownType: number;
  unexpectedType: number;
  wrongAddress: number;
  outOfOrder: number;
  duplicate: number;
  unsolicited: number;
  echo: number;
  badPayload: number;
  timeouts: number;
  naks: number;
}

export interface SerialBoardDiagnostics {
  readonly address: number;
  readonly firmware: string;
  readonly state: "ok" | "silent";
  readonly lastGoodMs: number | null;
  readonly consecutiveMisses: number;
  readonly lastNak: string | null;
  readonly status: number;
  readonly silentForMs: number | null;
}

export interface SerialDiagnostics {
  readonly port: string;
  readonly connected: boolean;
  readonly linesReceived: number;
  readonly repliesAccepted: number;
  readonly bytesReceived: number;
  readonly disconnects: number;
  readonly reconnects: number;
  readonly failedReopens: number;
  readonly writeErrors: number;
  readonly lastOutageMs: number | null;
  readonly errors: Readonly<SerialErrorCounters>;
  readonly boards: readonly SerialBoardDiagnostics[];
}

export function emptyErrorCounters(): SerialErrorCounters {
  return {
    checksum: 0,
    format: 0,
    overlong: 0,
    nonAscii: 0,
    resynced: 0,
    truncatedAtDisconnect: 0,
    unknownType: 0,
    unexpectedType: 0,
    wrongAddress: 0,
    outOfOrder: 0,
    duplicate: 0,
    unsolicited: 0,
    echo: 0,
    badPayload: 0,
    timeouts: 0,
    naks: 0,
  };
}
