/* Shared by the Cyclone DDS (C) and Fast DDS (C++) interop peers: command line, the deterministic message
 * contents both sides check (test/peers/contents.ts is the TypeScript twin), timing and the output protocol.
 *
 * Output, one event per line on stdout (parsed by test/helpers/netns.ts):
 *   READY                      entities created
 *   MATCHED <n>                matched remote endpoints changed to n
 *   RECV <i> <ok> <lat_us>     subscriber got message i; ok=1 when its content is exactly what publisher i sends;
 *                              lat_us = one-way latency (JointState only: stamp = sender CLOCK_MONOTONIC), else -1
 *   NODE <ns> <name> <r> <w>   (ParticipantEntitiesInfo, Cyclone peer only) a node on ros_discovery_info with
 *                              r reader and w writer GIDs
 *   SENT <n>                   publisher wrote n messages
 *   DONE k=v ...               summary (received, bad, unique, lat_p50_us, lat_p99_us, lat_max_us, elapsed_s, rate_hz)
 * Exit codes: 0 ok, 1 bad arguments, 2 timeout (no match / not everything received), 3 bad content, 4 DDS error.
 */
#ifndef ONESTEP_PEER_COMMON_H
#define ONESTEP_PEER_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum peer_type { T_STRING, T_JOINT_STATE, T_F64_ARRAY, T_PARTICIPANT_ENTITIES_INFO };

struct peer_opts {
  int pub;                /* --role pub|sub */
  enum peer_type type;    /* --type String|JointState|Float64MultiArray */
  const char *topic;      /* --topic rt/chatter */
  int reliable;           /* --reliability reliable|best_effort */
  int transient_local;    /* --durability volatile|transient_local */
  int depth;              /* --depth N (keep-last) */
  long count;             /* --count N: messages to send / to wait for (0: none) */
  double rate;            /* --rate HZ (0: as fast as possible) */
  long size;              /* --size N: String bytes / JointState joints / Float64MultiArray elements */
  int domain;             /* --domain D */
  double timeout;         /* --timeout S for the whole run */
  int wait_match;         /* --wait-match N: publisher waits for N matched readers before writing */
  double linger;          /* --linger S: publisher stays alive after writing */
  double lease;           /* --lease S: participant lease duration (0: vendor default) */
  int until_unmatched;    /* --until-unmatched: subscriber exits when its matched writers drop to 0 */
  int quiet;              /* --quiet: no RECV lines (benchmarks) */
  const char *peer;       /* --peer ADDR: unicast discovery peer (no multicast) */
};

static void peer_usage(const char *prog) {
  fprintf(stderr,
          "usage: %s --role pub|sub --type String|JointState|Float64MultiArray|ParticipantEntitiesInfo [--topic rt/chatter]\n"
          "  [--reliability reliable|best_effort] [--durability volatile|transient_local] [--depth N]\n"
          "  [--count N] [--rate HZ] [--size N] [--domain D] [--timeout S] [--wait-match N] [--linger S]\n"
          "  [--lease S] [--until-unmatched] [--quiet] [--peer ADDR]\n",
          prog);
}

static int peer_parse(int argc, char **argv, struct peer_opts *o) {
  memset(o, 0, sizeof *o);
  o->pub = -1;
  o->type = (enum peer_type)-1;
  o->topic = "rt/chatter";
  o->reliable = 1;
  o->depth = 10;
  o->count = 10;
  o->rate = 100;
  o->size = -1;
  o->timeout = 30;
  o->wait_match = 1;
  for (int i = 1; i < argc; i++) {
    const char *k = argv[i];
    if (!strcmp(k, "--until-unmatched")) { o->until_unmatched = 1; continue; }
    if (!strcmp(k, "--quiet")) { o->quiet = 1; continue; }
    if (i + 1 >= argc) { fprintf(stderr, "missing value for %s\n", k); return -1; }
    const char *v = argv[++i];
    if (!strcmp(k, "--role")) {
      if (!strcmp(v, "pub")) o->pub = 1; else if (!strcmp(v, "sub")) o->pub = 0; else { fprintf(stderr, "bad --role %s\n", v); return -1; }
    } else if (!strcmp(k, "--type")) {
      if (!strcmp(v, "String")) o->type = T_STRING;
      else if (!strcmp(v, "JointState")) o->type = T_JOINT_STATE;
      else if (!strcmp(v, "Float64MultiArray")) o->type = T_F64_ARRAY;
      else if (!strcmp(v, "ParticipantEntitiesInfo")) o->type = T_PARTICIPANT_ENTITIES_INFO;
      else { fprintf(stderr, "bad --type %s\n", v); return -1; }
    } else if (!strcmp(k, "--topic")) o->topic = v;
    else if (!strcmp(k, "--reliability")) {
      if (!strcmp(v, "reliable")) o->reliable = 1; else if (!strcmp(v, "best_effort")) o->reliable = 0; else { fprintf(stderr, "bad --reliability %s\n", v); return -1; }
    } else if (!strcmp(k, "--durability")) {
      if (!strcmp(v, "volatile")) o->transient_local = 0; else if (!strcmp(v, "transient_local")) o->transient_local = 1; else { fprintf(stderr, "bad --durability %s\n", v); return -1; }
    } else if (!strcmp(k, "--depth")) o->depth = atoi(v);
    else if (!strcmp(k, "--count")) o->count = atol(v);
    else if (!strcmp(k, "--rate")) o->rate = atof(v);
    else if (!strcmp(k, "--size")) o->size = atol(v);
    else if (!strcmp(k, "--domain")) o->domain = atoi(v);
    else if (!strcmp(k, "--timeout")) o->timeout = atof(v);
    else if (!strcmp(k, "--wait-match")) o->wait_match = atoi(v);
    else if (!strcmp(k, "--linger")) o->linger = atof(v);
    else if (!strcmp(k, "--lease")) o->lease = atof(v);
    else if (!strcmp(k, "--peer")) o->peer = v;
    else { fprintf(stderr, "unknown option %s\n", k); return -1; }
  }
  if (o->pub < 0 || (int)o->type < 0) { fprintf(stderr, "--role and --type are required\n"); return -1; }
  if (o->size < 0) o->size = o->type == T_STRING ? 0 : o->type == T_JOINT_STATE ? 6 : 8;
  if (o->depth < 1) o->depth = 1;
  return 0;
}

static int64_t peer_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void peer_sleep_until(int64_t t_ns) {
  int64_t now = peer_now_ns();
  if (t_ns <= now) return;
  struct timespec d = {(time_t)((t_ns - now) / 1000000000), (long)((t_ns - now) % 1000000000)};
  nanosleep(&d, NULL);
}

/* ---- contents: message i, as both sides compute it ---- */

/* String i: "msg <i>" then 'a'..'z' repeated up to `size` bytes (when size is larger). */
static size_t peer_string_fill(char *buf, size_t cap, long i, long size) {
  int n = snprintf(buf, cap, "msg %ld", i);
  size_t len = (size_t)n;
  while ((long)len < size && len + 1 < cap) { buf[len] = (char)('a' + (len % 26)); len++; }
  buf[len] = 0;
  return len;
}
static long peer_string_check(const char *s, long size) {
  long i;
  if (sscanf(s, "msg %ld", &i) != 1) return -1;
  char expect[32];
  int n = snprintf(expect, sizeof expect, "msg %ld", i);
  size_t len = strlen(s);
  if (strncmp(s, expect, (size_t)n) != 0) return -1;
  if (size > n && (long)len != size) return -(i + 2);
  for (size_t k = (size_t)n; k < len; k++) if (s[k] != (char)('a' + (k % 26))) return -(i + 2);
  return i;
}
/* JointState i: frame_id "<i>", names j0..j(n-1), position[j] = i + 0.5 j, velocity = -position, effort empty,
 * stamp = sender CLOCK_MONOTONIC (for one-way latency). */
static double peer_js_position(long i, long j) { return (double)i + 0.5 * (double)j; }
/* Float64MultiArray i: one dim {label "x", size n, stride n}, data_offset = i, data[j] = i + j / 1000. */
static double peer_f64_value(long i, long j) { return (double)i + (double)j / 1000.0; }

/* ---- statistics ---- */

struct peer_stats {
  long received, bad, unique;
  unsigned char *seen; /* by index, for count > 0 */
  long seen_cap;
  double *lat_us;
  long lat_n, lat_cap;
  int64_t first_ns, last_ns;
};

static void peer_stats_init(struct peer_stats *s, long count) {
  memset(s, 0, sizeof *s);
  s->seen_cap = count > 0 ? count : 1;
  s->seen = (unsigned char *)calloc((size_t)s->seen_cap, 1);
  s->lat_cap = 1024;
  s->lat_us = (double *)malloc(sizeof(double) * (size_t)s->lat_cap);
}

static void peer_record(struct peer_stats *s, const struct peer_opts *o, long i, int ok, double lat_us) {
  int64_t now = peer_now_ns();
  if (s->received == 0) s->first_ns = now;
  s->last_ns = now;
  s->received++;
  if (!ok) s->bad++;
  if (i >= 0 && i < s->seen_cap && !s->seen[i]) { s->seen[i] = 1; s->unique++; }
  if (lat_us >= 0) {
    if (s->lat_n == s->lat_cap) { s->lat_cap *= 2; s->lat_us = (double *)realloc(s->lat_us, sizeof(double) * (size_t)s->lat_cap); }
    s->lat_us[s->lat_n++] = lat_us;
  }
  if (!o->quiet) printf("RECV %ld %d %.1f\n", i, ok, lat_us);
}

static int peer_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void peer_print_done(struct peer_stats *s) {
  double p50 = -1, p99 = -1, mx = -1;
  if (s->lat_n > 0) {
    qsort(s->lat_us, (size_t)s->lat_n, sizeof(double), peer_cmp_double);
    p50 = s->lat_us[(long)(0.50 * (double)(s->lat_n - 1))];
    p99 = s->lat_us[(long)(0.99 * (double)(s->lat_n - 1))];
    mx = s->lat_us[s->lat_n - 1];
  }
  double elapsed = (double)(s->last_ns - s->first_ns) / 1e9;
  double rate = elapsed > 0 ? (double)(s->received - 1) / elapsed : 0;
  printf("DONE received=%ld bad=%ld unique=%ld lat_p50_us=%.1f lat_p99_us=%.1f lat_max_us=%.1f elapsed_s=%.4f rate_hz=%.1f\n",
         s->received, s->bad, s->unique, p50, p99, mx, elapsed, rate);
  fflush(stdout);
}

#endif
