/** Modbus RTU CRC-16 (polynomial 0xA001 reflected, init 0xFFFF), table-driven for the hot path. */
const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

export function crc16(data: Uint8Array, start = 0, end = data.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ data[i]!) & 0xff]!;
  return crc;
}

/** True when the last two bytes (low byte first, as on the wire) are the CRC of the rest. */
export function crcOk(frame: Uint8Array, length = frame.length): boolean {
  if (length < 4) return false;
  const crc = crc16(frame, 0, length - 2);
  return frame[length - 2] === (crc & 0xff) && frame[length - 1] === crc >>> 8;
}

/** Returns a new frame: `body` followed by its CRC. */
export function withCrc(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 2);
  out.set(body);
  const crc = crc16(body);
  out[body.length] = crc & 0xff;
  out[body.length + 1] = crc >>> 8;
  return out;
}
