/**
 * CRC-8 as used by TI's battery monitors: polynomial x^8+x^2+x+1 (0x07), init 0, no
 * reflection, no final XOR (CRC-8/SMBUS, i.e. SMBus PEC). Shared by the bq769x0 and bq769x2.
 */
const TABLE = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let b = 0; b < 8; b++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
    t[i] = c;
  }
  return t;
})();

export function crc8(bytes: ArrayLike<number>, init = 0): number {
  let c = init & 0xff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ (bytes[i] ?? 0)) & 0xff] ?? 0;
  return c;
}
