/*
 * Sequential Modbus TCP reader on libmodbus (the reference client of issue #9): reads
 * 125 holding registers from ADDR in a loop for SECONDS and prints "reads bad seconds".
 * Built by scripts/bench/modbus.mjs when gcc and libmodbus-dev are present.
 * usage: libmodbus-client HOST PORT ADDR SECONDS
 */
#include <modbus/modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <errno.h>
int main(int argc, char **argv) {
  const char *host = argv[1]; int port = atoi(argv[2]); int addr = atoi(argv[3]); double seconds = atof(argv[4]);
  modbus_t *ctx = modbus_new_tcp(host, port);
  modbus_set_slave(ctx, 1);
  if (modbus_connect(ctx) == -1) { fprintf(stderr, "connect: %s\n", modbus_strerror(errno)); return 1; }
  uint16_t regs[125]; struct timespec t0, t; clock_gettime(CLOCK_MONOTONIC, &t0);
  long n = 0, bad = 0; double el = 0;
  do { for (int i = 0; i < 100; i++) { if (modbus_read_registers(ctx, addr, 125, regs) != 125) bad++; n++; }
       clock_gettime(CLOCK_MONOTONIC, &t); el = (t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9; } while (el < seconds);
  printf("%ld %ld %.6f\n", n, bad, el);
  modbus_close(ctx); modbus_free(ctx); return 0;
}
