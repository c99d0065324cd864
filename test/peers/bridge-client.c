/* A controller for `onestep sim-bridge` on Cyclone DDS: reads sensor_msgs/JointState from the bridge and answers
 * every state with a joint-position command for a fixed target pose, as std_msgs/Float64MultiArray (one value per
 * joint, in joint1..joint7 order) or as sensor_msgs/JointState on the Isaac-style topic (names in reverse order,
 * header.stamp = the state's stamp, so lockstep matches the answer by stamp).
 *
 * Usage: bridge_client --target q1,..,q7 [--mode f64|js] [--states N] [--domain D] [--wait-s S]
 *   [--js-topic rt/joint_states] [--cmd-topic rt/forward_position_controller/commands | rt/joint_command]
 * Output (stdout):
 *   READY                          both endpoints matched
 *   STATE <i> <sec> <nanosec> <q1> .. <q7>   state i as received (%.17g, joint1..joint7 by name)
 *   DONE states=N                  after answering N states
 * Exit: 0 ok, 1 bad arguments, 2 no match / no states within --wait-s, 3 a state lacked a joint, 4 DDS error. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dds/dds.h"
#include "ros_types.h"

#define JOINTS 7

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
  const char *js_topic = "rt/joint_states", *cmd_topic = NULL, *target_arg = NULL, *mode = "f64";
  long states = 50;
  int domain = 0;
  double wait_s = 30;
  for (int a = 1; a < argc; a++) {
    const char *k = argv[a];
    const char *v = a + 1 < argc ? argv[a + 1] : NULL;
    if (!v) { fprintf(stderr, "bridge_client: %s needs a value\n", k); return 1; }
    a++;
    if (!strcmp(k, "--target")) target_arg = v;
    else if (!strcmp(k, "--mode")) mode = v;
    else if (!strcmp(k, "--states")) states = atol(v);
    else if (!strcmp(k, "--domain")) domain = atoi(v);
    else if (!strcmp(k, "--wait-s")) wait_s = atof(v);
    else if (!strcmp(k, "--js-topic")) js_topic = v;
    else if (!strcmp(k, "--cmd-topic")) cmd_topic = v;
    else { fprintf(stderr, "bridge_client: unknown argument %s\n", k); return 1; }
  }
  int js_mode = !strcmp(mode, "js");
  if (!js_mode && strcmp(mode, "f64")) { fprintf(stderr, "bridge_client: --mode must be f64 or js\n"); return 1; }
  if (!cmd_topic) cmd_topic = js_mode ? "rt/joint_command" : "rt/forward_position_controller/commands";
  double target[JOINTS];
  if (!target_arg) { fprintf(stderr, "bridge_client: --target q1,..,q7 is required\n"); return 1; }
  const char *p = target_arg;
  for (int j = 0; j < JOINTS; j++) {
    char *end;
    target[j] = strtod(p, &end);
    if (end == p) { fprintf(stderr, "bridge_client: --target needs %d numbers\n", JOINTS); return 1; }
    p = *end == ',' ? end + 1 : end;
  }

  dds_entity_t pp = dds_create_participant((dds_domainid_t)domain, NULL, NULL);
  if (pp < 0) { fprintf(stderr, "bridge_client: participant: %s\n", dds_strretcode(pp)); return 4; }
  dds_entity_t js_t = dds_create_topic(pp, &sensor_msgs_msg_dds__JointState__desc, js_topic, NULL, NULL);
  dds_entity_t cmd_t = js_mode ? dds_create_topic(pp, &sensor_msgs_msg_dds__JointState__desc, cmd_topic, NULL, NULL)
                               : dds_create_topic(pp, &std_msgs_msg_dds__Float64MultiArray__desc, cmd_topic, NULL, NULL);
  dds_qos_t *q = dds_create_qos();
  /* forward_command_controller's commands and joint_state_broadcaster's states: reliable, volatile, keep-last 10 */
  dds_qset_reliability(q, DDS_RELIABILITY_RELIABLE, DDS_MSECS(100));
  dds_qset_history(q, DDS_HISTORY_KEEP_LAST, 10);
  dds_entity_t writer = dds_create_writer(pp, cmd_t, q, NULL);
  dds_entity_t reader = dds_create_reader(pp, js_t, q, NULL);
  dds_delete_qos(q);
  if (writer < 0 || reader < 0) { fprintf(stderr, "bridge_client: endpoints: %s\n", dds_strretcode(writer < 0 ? writer : reader)); return 4; }

  int64_t give_up = now_ns() + (int64_t)(wait_s * 1e9);
  for (;;) {
    dds_publication_matched_status_t pm;
    dds_subscription_matched_status_t sm;
    dds_get_publication_matched_status(writer, &pm);
    dds_get_subscription_matched_status(reader, &sm);
    if (pm.current_count > 0 && sm.current_count > 0) break;
    if (now_ns() > give_up) { fprintf(stderr, "bridge_client: no match within %g s\n", wait_s); return 2; }
    dds_sleepfor(DDS_MSECS(10));
  }
  printf("READY\n");
  fflush(stdout);

  std_msgs_msg_dds__Float64MultiArray_ f64;
  memset(&f64, 0, sizeof f64);
  f64.data._buffer = target;
  f64.data._length = f64.data._maximum = JOINTS;
  sensor_msgs_msg_dds__JointState_ js;
  memset(&js, 0, sizeof js);
  static char names[JOINTS][8];
  static char *name_ptrs[JOINTS];
  static double reversed[JOINTS];
  for (int j = 0; j < JOINTS; j++) {
    int k = JOINTS - 1 - j; /* reverse order: the bridge maps by name */
    snprintf(names[j], sizeof names[j], "joint%d", k + 1);
    name_ptrs[j] = names[j];
    reversed[j] = target[k];
  }
  js.header.frame_id = "";
  js.name._buffer = name_ptrs;
  js.name._length = js.name._maximum = JOINTS;
  js.position._buffer = reversed;
  js.position._length = js.position._maximum = JOINTS;

  dds_entity_t ws = dds_create_waitset(pp);
  dds_entity_t rc_cond = dds_create_readcondition(reader, DDS_ANY_STATE);
  dds_waitset_attach(ws, rc_cond, 0);
  long seen = 0;
  while (seen < states) {
    int64_t left = give_up - now_ns();
    if (left <= 0) { fprintf(stderr, "bridge_client: only %ld of %ld states within %g s\n", seen, states, wait_s); return 2; }
    dds_waitset_wait(ws, NULL, 0, left);
    void *samples[16] = {0};
    dds_sample_info_t infos[16];
    int n = dds_take(reader, samples, infos, 16, 16);
    for (int s = 0; s < n && seen < states; s++) {
      if (!infos[s].valid_data) continue;
      const sensor_msgs_msg_dds__JointState_ *m = samples[s];
      double q[JOINTS];
      for (int j = 0; j < JOINTS; j++) {
        char want[8];
        snprintf(want, sizeof want, "joint%d", j + 1);
        int found = -1;
        for (uint32_t k = 0; k < m->name._length; k++) if (!strcmp(m->name._buffer[k], want)) found = (int)k;
        if (found < 0 || (uint32_t)found >= m->position._length) { fprintf(stderr, "bridge_client: state without %s\n", want); return 3; }
        q[j] = m->position._buffer[found];
      }
      printf("STATE %ld %d %u", seen, m->header.stamp.sec, m->header.stamp.nanosec);
      for (int j = 0; j < JOINTS; j++) printf(" %.17g", q[j]);
      printf("\n");
      seen++;
      dds_return_t rc;
      if (js_mode) {
        js.header.stamp = m->header.stamp;
        rc = dds_write(writer, &js);
      } else {
        rc = dds_write(writer, &f64);
      }
      if (rc < 0) { fprintf(stderr, "bridge_client: write: %s\n", dds_strretcode(rc)); return 4; }
    }
    if (n > 0) dds_return_loan(reader, samples, n);
  }
  printf("DONE states=%ld\n", seen);
  fflush(stdout);
  dds_sleepfor(DDS_MSECS(200)); /* the last command is reliable: give it time to be acknowledged */
  dds_delete(pp);
  return 0;
}
