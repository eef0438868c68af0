/**
 * Protocol v1 line codec: `<dir><address>,<seq>,<TYPE>[,key=value...]*<CRC16>`.
 * Pure functions over strings; message meaning lives in messages.ts.
 */
import { crcHex } from "./checksum.js";

export const PROTOCOL_VERSION = 1;
export const DEFAULT_MAX_LINE_BYTES = 512;
export const MAX_ADDRESS = 247;
export const SEQ_MODULO = 65536;
/** `<` and `>` open every frame and appear nowhere else in a line. */
export const FRAME_START_BYTES: readonly number[] = [0x3c, 0x3e];

/** `>` controller to board, `<` board to controller (lets a controller drop RS-485 echo). */
export type Direction = "to_board" | "from_board";

export interface Frame {
  readonly dir: Direction;
  readonly address: number;
  readonly seq: number;
  readonly type: string;
  readonly fields: Readonly<Record<string, string>>;
}

export type DecodeError = "format" | "checksum";
export type DecodeResult =
  | { readonly ok: true; readonly frame: Frame }
  | { readonly ok: false; readonly error: DecodeError };

const HEAD = /^([<>])(\d{1,3}),(\d{1,5}),([A-Z]{2,5})$/;
const KEY = /^[a-z][a-z0-9]{0,7}$/;
const VALUE = /^[A-Za-z0-9_.;:+-]*$/;

export function encodeFrame(frame: Frame): string {
  if (!Number.isInteger(frame.address) || frame.address < 0 || frame.address > MAX_ADDRESS)
    throw new RangeError(`address out of range: ${frame.address}`);
  if (!Number.isInteger(frame.seq) || frame.seq < 0 || frame.seq >= SEQ_MODULO)
    throw new RangeError(`seq out of range: ${frame.seq}`);
  let body = `${frame.dir === "to_board" ? ">" : "<"}${frame.address},${frame.seq},${frame.type}`;
  for (const [k, v] of Object.entries(frame.fields)) {
    if (!KEY.test(k) || !VALUE.test(v)) throw new RangeError(`invalid field ${k}=${v}`);
    body += `,${k}=${v}`;
  }
  return `${body}*${crcHex(body)}\n`;
}

/** Decodes one line (without its newline). Never throws. */
export function decodeLine(line: string): DecodeResult {
  const star = line.lastIndexOf("*");
  if (star < 0 || line.length - star !== 5) return { ok: false, error: "format" };
  const body = line.slice(0, star);
  const crc = line.slice(star + 1);
  if (!/^[0-9A-F]{4}$/.test(crc)) return { ok: false, error: "format" };
  if (crc !== crcHex(body)) return { ok: false, error: "checksum" };
  const parts = body.split(",");
  const head = HEAD.exec(parts.slice(0, 3).join(","));
  if (!head) return { ok: false, error: "format" };
  const address = Number(head[2]);
  const seq = Number(head[3]);
  if (address > MAX_ADDRESS || seq >= SEQ_MODULO) return { ok: false, error: "format" };
  const fields: Record<string, string> = {};
  for (const p of parts.slice(3)) {
    const eq = p.indexOf("=");
    if (eq < 0) return { ok: false, error: "format" };
    const k = p.slice(0, eq);
    const v = p.slice(eq + 1);
    if (!KEY.test(k) || !VALUE.test(v) || Object.hasOwn(fields, k)) return { ok: false, error: "format" };
    fields[k] = v;
  }
  return {
    ok: true,
    frame: { dir: head[1] === ">" ? "to_board" : "from_board", address, seq, type: head[4]!, fields },
  };
}
