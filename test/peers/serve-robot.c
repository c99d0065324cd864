/* The robot side of the policy node tests and benchmark, on Cyclone DDS: publishes sensor_msgs/JointState for
 * joint1..joint7 at a fixed rate (absolute CLOCK_MONOTONIC schedule) and records every
 * std_msgs/Float64MultiArray command it receives, with its receive time. Message contents are exact binary
 * fractions of the index, so the TypeScript side recomputes each observation and the command it must produce.
 *
 * Usage: serve_robot --count N --rate HZ [--domain D] [--js-topic rt/joint_states] [--cmd-topic rt/commands]
 *   [--gap-at K --gap-ms M] (pause after message K) [--nan-at i,j,..] (NaN position of joint3)
 *   [--missing-at i,j,..] (joint7 left out) [--linger-ms M] [--wait-s S] [--quiet]
 *   [--extra-topic rt/task --extra-size N --extra-every K] (also a Float64MultiArray of N task values, e.g. the
 *   tool tip and target, every K joint states, starting before the first)
 * Output (stdout, after the run unless noted):
 *   READY                       (immediately) both endpoints matched
 *   SENT <i> <t_ns>             JointState i written at t_ns (CLOCK_MONOTONIC)
 *   CMD <t_ns> <v0> ... <v6>    a command received at t_ns (%.17g, exact)
 *   DONE sent=N cmds=M late_max_us=L    (late_max_us: worst lateness of the send schedule)
 * With --echo it is instead the reference "policy node" in C: every JointState on --js-topic is answered at once
 * with a Float64MultiArray of its positions on --cmd-topic (the DDS round-trip floor), until SIGTERM/SIGINT.
 * Exit: 0 ok, 1 bad arguments, 2 no match within --wait-s, 4 DDS error. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dds/dds.h"
#include "ros_types.h"

#define JOINTS 7

static int64_t now_ns(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The observation of message i: exact binary fractions (the TypeScript twin is test/serve-rtps.test.ts). */
static double js_position(long i, int j) { return (double)(((i * 7 + j * 13) % 256) - 128) / 256.0; }
static double js_velocity(long i, int j) { return (double)(((i * 3 + j * 5) % 64) - 32) / 64.0; }
static double extra_value(long i, int k) { return (double)(((i * 11 + k * 3) % 32) - 16) / 32.0; }

struct cmd { int64_t t; double v[JOINTS]; };
static struct cmd *cmds;
static long ncmds, capcmds;
static pthread_mutex_t cmd_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_command(dds_entity_t reader, void *arg) {
  (void)arg;
  void *samples[16] = {0};
  dds_sample_info_t infos[16];
  for (;;) {
    int n = dds_take(reader, samples, infos, 16, 16);
    if (n <= 0) break;
    int64_t t = now_ns(CLOCK_MONOTONIC);
    pthread_mutex_lock(&cmd_lock);
    for (int k = 0; k < n; k++) {
      if (!infos[k].valid_data) continue;
      const std_msgs_msg_dds__Float64MultiArray_ *m = samples[k];
      if (ncmds == capcmds) {
        capcmds = capcmds ? capcmds * 2 : 4096;
        cmds = realloc(cmds, (size_t)capcmds * sizeof *cmds);
      }
      struct cmd *c = &cmds[ncmds++];
      c->t = t;
      for (int j = 0; j < JOINTS; j++) c->v[j] = j < (int)m->data._length ? m->data._buffer[j] : NAN;
    }
    pthread_mutex_unlock(&cmd_lock);
    dds_return_loan(reader, samples, n);
  }
}

static dds_entity_t echo_writer;
static void on_joint_state(dds_entity_t reader, void *arg) {
  (void)arg;
  void *samples[16] = {0};
  dds_sample_info_t infos[16];
  static double data[64];
  std_msgs_msg_dds__Float64MultiArray_ out;
  memset(&out, 0, sizeof out);
  out.data._buffer = data;
  for (;;) {
    int n = dds_take(reader, samples, infos, 16, 16);
    if (n <= 0) break;
    for (int k = 0; k < n; k++) {
      if (!infos[k].valid_data) continue;
      const sensor_msgs_msg_dds__JointState_ *m = samples[k];
      uint32_t len = m->position._length < 64 ? m->position._length : 64;
      memcpy(data, m->position._buffer, len * sizeof(double));
      out.data._length = out.data._maximum = len;
      dds_write(echo_writer, &out);
    }
    dds_return_loan(reader, samples, n);
  }
}

static volatile sig_atomic_t stop_echo = 0;
static void on_signal(int sig) { (void)sig; stop_echo = 1; }

static int run_echo(int domain, const char *js_topic, const char *cmd_topic) {
  dds_entity_t pp = dds_create_participant((dds_domainid_t)domain, NULL, NULL);
  if (pp < 0) { fprintf(stderr, "serve_robot --echo: participant: %s\n", dds_strretcode(pp)); return 4; }
  dds_entity_t js_t = dds_create_topic(pp, &sensor_msgs_msg_dds__JointState__desc, js_topic, NULL, NULL);
  dds_entity_t cmd_t = dds_create_topic(pp, &std_msgs_msg_dds__Float64MultiArray__desc, cmd_topic, NULL, NULL);
  dds_qos_t *q = dds_create_qos();
  dds_qset_reliability(q, DDS_RELIABILITY_RELIABLE, DDS_MSECS(100));
  dds_qset_history(q, DDS_HISTORY_KEEP_LAST, 10);
  echo_writer = dds_create_writer(pp, cmd_t, q, NULL);
  dds_qos_t *rq = dds_create_qos();
  /* like the onestep node: a best-effort observation reader */
  dds_qset_reliability(rq, DDS_RELIABILITY_BEST_EFFORT, 0);
  dds_qset_history(rq, DDS_HISTORY_KEEP_LAST, 5);
  dds_listener_t *l = dds_create_listener(NULL);
  dds_lset_data_available(l, on_joint_state);
  dds_entity_t reader = dds_create_reader(pp, js_t, rq, l);
  dds_delete_qos(q);
  dds_delete_qos(rq);
  if (echo_writer < 0 || reader < 0) { fprintf(stderr, "serve_robot --echo: endpoints failed\n"); return 4; }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  printf("READY\n");
  fflush(stdout);
  while (!stop_echo) dds_sleepfor(DDS_MSECS(20));
  dds_delete(pp);
  return 0;
}

static int in_list(const char *list, long i) {
  if (!list) return 0;
  for (const char *p = list; *p;) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p) return 0;
    if (v == i) return 1;
    p = *end == ',' ? end + 1 : end;
  }
  return 0;
}

static void sleep_until(int64_t t) {
  struct timespec ts = {.tv_sec = t / 1000000000LL, .tv_nsec = t % 1000000000LL};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
}

int main(int argc, char **argv) {
  long count = 100, gap_at = -1, extra_size = 0, extra_every = 50;
  const char *extra_topic = NULL;
  double rate = 100, gap_ms = 0, linger_ms = 300, wait_s = 20;
  int domain = 0, quiet = 0, echo = 0;
  const char *js_topic = "rt/joint_states", *cmd_topic = "rt/commands", *nan_at = NULL, *missing_at = NULL;
  for (int a = 1; a < argc; a++) {
    const char *k = argv[a];
    const char *v = a + 1 < argc ? argv[a + 1] : NULL;
    if (!strcmp(k, "--quiet")) { quiet = 1; continue; }
    if (!strcmp(k, "--echo")) { echo = 1; continue; }
    if (!v) { fprintf(stderr, "serve_robot: %s needs a value\n", k); return 1; }
    a++;
    if (!strcmp(k, "--count")) count = atol(v);
    else if (!strcmp(k, "--rate")) rate = atof(v);
    else if (!strcmp(k, "--domain")) domain = atoi(v);
    else if (!strcmp(k, "--js-topic")) js_topic = v;
    else if (!strcmp(k, "--cmd-topic")) cmd_topic = v;
    else if (!strcmp(k, "--gap-at")) gap_at = atol(v);
    else if (!strcmp(k, "--gap-ms")) gap_ms = atof(v);
    else if (!strcmp(k, "--nan-at")) nan_at = v;
    else if (!strcmp(k, "--missing-at")) missing_at = v;
    else if (!strcmp(k, "--linger-ms")) linger_ms = atof(v);
    else if (!strcmp(k, "--wait-s")) wait_s = atof(v);
    else if (!strcmp(k, "--extra-topic")) extra_topic = v;
    else if (!strcmp(k, "--extra-size")) extra_size = atol(v);
    else if (!strcmp(k, "--extra-every")) extra_every = atol(v);
    else { fprintf(stderr, "serve_robot: unknown argument %s\n", k); return 1; }
  }
  if (echo) return run_echo(domain, js_topic, cmd_topic);
  if (count <= 0 || rate <= 0) { fprintf(stderr, "serve_robot: --count and --rate must be > 0\n"); return 1; }

  dds_entity_t pp = dds_create_participant((dds_domainid_t)domain, NULL, NULL);
  if (pp < 0) { fprintf(stderr, "serve_robot: participant: %s\n", dds_strretcode(pp)); return 4; }
  dds_entity_t js_t = dds_create_topic(pp, &sensor_msgs_msg_dds__JointState__desc, js_topic, NULL, NULL);
  dds_entity_t cmd_t = dds_create_topic(pp, &std_msgs_msg_dds__Float64MultiArray__desc, cmd_topic, NULL, NULL);
  dds_qos_t *q = dds_create_qos();
  /* joint_state_broadcaster publishes with the ROS default QoS: reliable, volatile, keep-last 10 */
  dds_qset_reliability(q, DDS_RELIABILITY_RELIABLE, DDS_MSECS(100));
  dds_qset_history(q, DDS_HISTORY_KEEP_LAST, 10);
  dds_entity_t writer = dds_create_writer(pp, js_t, q, NULL);
  dds_listener_t *l = dds_create_listener(NULL);
  dds_lset_data_available(l, on_command);
  dds_entity_t reader = dds_create_reader(pp, cmd_t, q, l);
  dds_entity_t extra_writer = 0;
  if (extra_topic && extra_size > 0) {
    dds_entity_t extra_t = dds_create_topic(pp, &std_msgs_msg_dds__Float64MultiArray__desc, extra_topic, NULL, NULL);
    extra_writer = dds_create_writer(pp, extra_t, q, NULL);
    if (extra_writer < 0) { fprintf(stderr, "serve_robot: extra writer: %s\n", dds_strretcode(extra_writer)); return 4; }
  }
  if (extra_every <= 0) extra_every = 1;
  dds_delete_qos(q);
  if (writer < 0 || reader < 0) { fprintf(stderr, "serve_robot: endpoints: %s\n", dds_strretcode(writer < 0 ? writer : reader)); return 4; }

  /* wait until the node's reader and writer are both matched */
  int64_t give_up = now_ns(CLOCK_MONOTONIC) + (int64_t)(wait_s * 1e9);
  for (;;) {
    dds_publication_matched_status_t pm;
    dds_subscription_matched_status_t sm;
    dds_get_publication_matched_status(writer, &pm);
    dds_get_subscription_matched_status(reader, &sm);
    dds_publication_matched_status_t em = {0};
    if (extra_writer > 0) dds_get_publication_matched_status(extra_writer, &em);
    if (pm.current_count > 0 && sm.current_count > 0 && (extra_writer <= 0 || em.current_count > 0)) break;
    if (now_ns(CLOCK_MONOTONIC) > give_up) { fprintf(stderr, "serve_robot: no match within %g s\n", wait_s); return 2; }
    dds_sleepfor(DDS_MSECS(10));
  }
  printf("READY\n");
  fflush(stdout);
  dds_sleepfor(DDS_MSECS(200)); /* let the node's side finish matching too */

  sensor_msgs_msg_dds__JointState_ m;
  memset(&m, 0, sizeof m);
  static char names[JOINTS][8];
  static char *name_ptrs[JOINTS];
  static double pos[JOINTS], vel[JOINTS];
  for (int j = 0; j < JOINTS; j++) {
    snprintf(names[j], sizeof names[j], "joint%d", j + 1);
    name_ptrs[j] = names[j];
  }
  m.header.frame_id = "";
  m.name._buffer = name_ptrs;
  m.position._buffer = pos;
  m.velocity._buffer = vel;
  int64_t *sent = calloc((size_t)count, sizeof *sent);
  std_msgs_msg_dds__Float64MultiArray_ extra;
  memset(&extra, 0, sizeof extra);
  extra.data._buffer = calloc((size_t)extra_size + 1, sizeof(double));
  extra.data._length = extra.data._maximum = (uint32_t)extra_size;
  int64_t period = (int64_t)(1e9 / rate), late_max = 0;
  int64_t next = now_ns(CLOCK_MONOTONIC);
  for (long i = 0; i < count; i++) {
    sleep_until(next);
    int64_t late = now_ns(CLOCK_MONOTONIC) - next;
    if (late > late_max) late_max = late;
    if (extra_writer > 0 && i % extra_every == 0) {
      for (long k = 0; k < extra_size; k++) extra.data._buffer[k] = extra_value(i, (int)k);
      dds_write(extra_writer, &extra);
    }
    int n = in_list(missing_at, i) ? JOINTS - 1 : JOINTS;
    for (int j = 0; j < JOINTS; j++) {
      pos[j] = js_position(i, j);
      vel[j] = js_velocity(i, j);
    }
    if (in_list(nan_at, i)) pos[2] = NAN;
    m.name._length = m.name._maximum = m.position._length = m.position._maximum = (uint32_t)n;
    m.velocity._length = m.velocity._maximum = (uint32_t)n;
    int64_t wall = now_ns(CLOCK_REALTIME);
    m.header.stamp.sec = (int32_t)(wall / 1000000000LL);
    m.header.stamp.nanosec = (uint32_t)(wall % 1000000000LL);
    sent[i] = now_ns(CLOCK_MONOTONIC);
    dds_return_t rc = dds_write(writer, &m);
    if (rc < 0) { fprintf(stderr, "serve_robot: write %ld: %s\n", i, dds_strretcode(rc)); return 4; }
    next += period;
    if (i == gap_at) next += (int64_t)(gap_ms * 1e6);
    /* a late schedule (machine busy) does not try to catch up in a burst */
    int64_t now = now_ns(CLOCK_MONOTONIC);
    if (next < now - 10 * period) next = now;
  }
  dds_sleepfor(DDS_MSECS((int64_t)linger_ms));
  dds_set_listener(reader, NULL);
  pthread_mutex_lock(&cmd_lock);
  if (!quiet) {
    for (long i = 0; i < count; i++) printf("SENT %ld %lld\n", i, (long long)sent[i]);
    for (long c = 0; c < ncmds; c++) {
      printf("CMD %lld", (long long)cmds[c].t);
      for (int j = 0; j < JOINTS; j++) printf(" %.17g", cmds[c].v[j]);
      printf("\n");
    }
  }
  printf("DONE sent=%ld cmds=%ld late_max_us=%lld\n", count, ncmds, (long long)(late_max / 1000));
  pthread_mutex_unlock(&cmd_lock);
  fflush(stdout);
  dds_delete(pp);
  return 0;
}
