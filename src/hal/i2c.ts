/**
 * The subset of `i2c-bus`'s promisified bus that drivers use. The real adapter
 * (src/hal/node/i2c.ts) and every chip emulator implement it, so tests run the
 * driver's real bytes.
 */
export interface I2cBus {
  /** Plain I2C write of `length` bytes (START addr+W data… STOP). */
  i2cWrite(
    address: number,
    length: number,
    buffer: Buffer,
  ): Promise<{ bytesWritten: number; buffer: Buffer }>;
  /** Plain I2C read of `length` bytes (START addr+R data… STOP). */
  i2cRead(address: number, length: number, buffer: Buffer): Promise<{ bytesRead: number; buffer: Buffer }>;
  /** Register read with a repeated start: write `command`, then read `length` bytes. */
  readI2cBlock(
    address: number,
    command: number,
    length: number,
    buffer: Buffer,
  ): Promise<{ bytesRead: number; buffer: Buffer }>;
  /** Register write: `command` followed by `length` bytes. */
  writeI2cBlock(
    address: number,
    command: number,
    length: number,
    buffer: Buffer,
  ): Promise<{ bytesWritten: number; buffer: Buffer }>;
  close(): Promise<void>;
}
