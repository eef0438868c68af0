/**
 * Modbus TCP: MBAP framing on node:net in front of the PDU engine. Requests in one segment
 * (pipelining) are answered in order in one write.
 */
import { createServer, type Server, type Socket } from "node:net";
import { BmsError } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { ModbusEngine } from "./pdu.js";

export interface TcpOptions {
  readonly host: string;
  readonly port: number;
  readonly unitId: number;
  readonly allowWriteFrom: readonly string[];
  readonly maxClients: number;
  /** Idle connections are closed after this long (0 keeps them). */
  readonly idleTimeoutMs?: number;
}

export interface TcpServer {
  readonly port: number;
  readonly host: string;
  readonly clients: number;
  close(): Promise<void>;
}

/** `::ffff:10.0.0.5` → `10.0.0.5`. */
export const normalizeAddress = (a: string | undefined): string => (a ?? "").replace(/^::ffff:/i, "");

function ipv4ToInt(a: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(a);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((x) => x > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** Exact addresses, IPv4 CIDR (`192.168.1.0/24`), or `*` for anyone. */
export function addressAllowed(address: string, allow: readonly string[]): boolean {
  const a = normalizeAddress(address);
  for (const rule of allow) {
    if (rule === "*" || normalizeAddress(rule) === a) return true;
    const slash = rule.indexOf("/");
    if (slash > 0) {
      const net = ipv4ToInt(rule.slice(0, slash));
      const bits = Number(rule.slice(slash + 1));
      const ip = ipv4ToInt(a);
      if (net === null || ip === null || !(bits >= 0 && bits <= 32)) continue;
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      if ((ip & mask) >>> 0 === (net & mask) >>> 0) return true;
    }
  }
  return false;
}

const MBAP = 7;
/** Unit id byte + the longest PDU (253). */
const MAX_LENGTH_FIELD = 254;

export function startTcp(engine: ModbusEngine, options: TcpOptions, logger: Logger): Promise<TcpServer> {
  const log = logger;
  const sockets = new Set<Socket>();

  const onConnection = (sock: Socket): void => {
    if (sockets.size >= options.maxClients) {
      log.warn(`modbus tcp: refusing ${sock.remoteAddress}: ${options.maxClients} clients already connected`);
      sock.destroy();
      return;
    }
    sockets.add(sock);
    sock.setNoDelay(true);
    sock.setKeepAlive(true, 30_000);
    if (options.idleTimeoutMs) sock.setTimeout(options.idleTimeoutMs, () => sock.destroy());
    const peer = normalizeAddress(sock.remoteAddress);
    const caller = {
      source: `modbus-tcp:${peer}`,
      writeAllowed: addressAllowed(peer, options.allowWriteFrom),
    };
    log.debug(`modbus tcp: client ${peer} connected (writes ${caller.writeAllowed ? "allowed" : "refused"})`);
    let buf: Buffer = Buffer.alloc(0);
    sock.on("data", (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const replies: Buffer[] = [];
      let off = 0;
      while (buf.length - off >= MBAP) {
        const len = buf.readUInt16BE(off + 4);
        if (len < 2 || len > MAX_LENGTH_FIELD) {
          // No way to find the next frame boundary: drop the connection, the client reconnects.
          log.warn(`modbus tcp: bad MBAP length ${len} from ${peer}; closing`);
          sock.destroy();
          return;
        }
        if (buf.length - off < 6 + len) break;
        const protocol = buf.readUInt16BE(off + 2);
        const unit = buf[off + 6]!;
        const pdu = buf.subarray(off + 7, off + 6 + len);
        const tid = buf.readUInt16BE(off);
        off += 6 + len;
        if (protocol !== 0) continue;
        if (unit !== options.unitId && unit !== 0 && unit !== 0xff) continue;
        const reply = engine.handle(pdu, caller);
        if (!reply) continue;
        const out = Buffer.allocUnsafe(MBAP + reply.length);
        out.writeUInt16BE(tid, 0);
        out.writeUInt16BE(0, 2);
        out.writeUInt16BE(reply.length + 1, 4);
        out[6] = unit;
        out.set(reply, 7);
        replies.push(out);
      }
      buf = off === buf.length ? Buffer.alloc(0) : buf.subarray(off);
      const ok =
        replies.length === 0 || sock.write(replies.length === 1 ? replies[0]! : Buffer.concat(replies));
      // A client that sends without reading must not make us buffer replies without bound.
      if (!ok) {
        sock.pause();
        sock.once("drain", () => sock.resume());
      }
    });
    sock.on("error", (err) => log.debug(`modbus tcp: ${peer}: ${err.message}`));
    sock.on("close", () => {
      sockets.delete(sock);
      log.debug(`modbus tcp: client ${peer} disconnected`);
    });
  };

  const server: Server = createServer(onConnection);
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(
        new BmsError(
          "COMMS",
          `cannot listen for Modbus TCP on ${options.host}:${options.port}: ${err.code ?? err.message}${err.code === "EACCES" ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)" : ""}`,
          {
            cause: err,
            details: { errno: err.code },
          },
        ),
      );
    };
    server.once("error", onError);
    server.listen(options.port, options.host, () => {
      server.off("error", onError);
      server.on("error", (err) => log.error(`modbus tcp: ${err.message}`));
      const addr = server.address();
      const port = typeof addr === "object" && addr ? addr.port : options.port;
      log.info(`modbus tcp: listening on ${options.host}:${port}, unit ${options.unitId}`);
      resolve({
        port,
        host: options.host,
        get clients() {
          return sockets.size;
        },
        close: () =>
          new Promise<void>((res) => {
            for (const s of sockets) s.destroy();
            server.close(() => res());
          }),
      });
    });
  });
}
