// The "robot" of bench/udp-floor.ts: every period (nanosleep, as the DDS robot peer paces itself) it sends a
// 200-byte datagram stamped with CLOCK_MONOTONIC to 127.0.0.1:<to-port>, waits for the echo on <from-port>, and
// records the round trip. Prints "RTT p50 p90 p99 n" in microseconds (the first 200 round trips are warm-up).
//   robot <to-port> <from-port> <count> <period-us>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: robot <to-port> <from-port> <count> <period-us>\n");
    return 2;
  }
  int to = atoi(argv[1]), from = atoi(argv[2]), count = atoi(argv[3]), period_us = atoi(argv[4]);
  if (count <= 200) count = 201;
  int tx = socket(AF_INET, SOCK_DGRAM, 0), rx = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(from);
  if (bind(rx, (struct sockaddr *)&a, sizeof a) != 0) { perror("bind"); return 1; }
  a.sin_port = htons(to);
  if (connect(tx, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); return 1; }
  struct timeval tv = {0, 200000}; // a lost echo costs 200 ms and one sample, never the run
  setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int64_t *rtt = calloc(count, sizeof *rtt);
  int n = 0;
  char buf[2048];
  memset(buf, 0, sizeof buf);
  struct timespec period = {0, period_us * 1000L};
  for (int i = 0; i < count; i++) {
    nanosleep(&period, NULL);
    int64_t t0 = now_ns();
    memcpy(buf, &t0, 8);
    send(tx, buf, 200, 0);
    if (recv(rx, buf, sizeof buf, 0) > 0) rtt[n++] = now_ns() - t0;
  }
  buf[12] = 1; // tells the echo to exit
  send(tx, buf, 200, 0);
  if (n <= 200) { fprintf(stderr, "robot: only %d echoes\n", n); return 1; }
  qsort(rtt + 200, n - 200, sizeof *rtt, by_value);
  int m = n - 200;
  printf("RTT %.1f %.1f %.1f %d\n", rtt[200 + m / 2] / 1e3, rtt[200 + m * 9 / 10] / 1e3, rtt[200 + m * 99 / 100] / 1e3, m);
  return 0;
}
