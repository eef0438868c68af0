/**
 * CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final XOR) over the ASCII
 * bytes of a line. Chosen over an NMEA-style XOR because XOR cannot see two swapped
 * characters or two flips in the same bit column, both common on noisy RS-485; this CRC
 * catches every burst up to 16 bits and every odd number of bit errors. See
 * docs/serial-protocol.md.
 */
const TABLE: Uint16Array = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let b = 0; b < 8; b++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

/** CRC of the low byte of each UTF-16 unit: callers pass ASCII text only. */
export function crc16Ccitt(text: string): number {
  let crc = 0xffff;
  for (let i = 0; i < text.length; i++) {
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ text.charCodeAt(i)) & 0xff]!;
  }
  return crc;
}

export function crcHex(text: string): string {
  return crc16Ccitt(text).toString(16).toUpperCase().padStart(4, "0");
}
