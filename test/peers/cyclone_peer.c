/* Cyclone DDS interop peer: publishes or subscribes ROS 2 messages (idlc types from ros_types.idl) on a ROS topic
 * ("rt/..."), with the QoS given on the command line. Output protocol and exit codes: peer_common.h. */
#include <signal.h>
#include "dds/dds.h"
#include "peer_common.h"
#include "ros_types.h"

static volatile sig_atomic_t stop_requested = 0;
static void on_signal(int sig) { (void)sig; stop_requested = 1; }

static const dds_topic_descriptor_t *descriptor(enum peer_type t) {
  switch (t) {
    case T_STRING: return &std_msgs_msg_dds__String__desc;
    case T_JOINT_STATE: return &sensor_msgs_msg_dds__JointState__desc;
    case T_PARTICIPANT_ENTITIES_INFO: return &rmw_dds_common_msg_dds__ParticipantEntitiesInfo__desc;
    default: return &std_msgs_msg_dds__Float64MultiArray__desc;
  }
}

/* Fills message i into a sample the caller owns (buffers allocated once, reused). */
static void fill(const struct peer_opts *o, void *sample, long i, char *strbuf, size_t strcap) {
  if (o->type == T_STRING) {
    std_msgs_msg_dds__String_ *m = (std_msgs_msg_dds__String_ *)sample;
    peer_string_fill(strbuf, strcap, i, o->size);
    m->data = strbuf;
  } else if (o->type == T_JOINT_STATE) {
    sensor_msgs_msg_dds__JointState_ *m = (sensor_msgs_msg_dds__JointState_ *)sample;
    snprintf(m->header.frame_id, 24, "%ld", i);
    for (long j = 0; j < o->size; j++) {
      m->position._buffer[j] = peer_js_position(i, j);
      m->velocity._buffer[j] = -peer_js_position(i, j);
    }
    int64_t now = peer_now_ns(); /* last, so the stamp is as close to the write as possible */
    m->header.stamp.sec = (int32_t)(now / 1000000000);
    m->header.stamp.nanosec = (uint32_t)(now % 1000000000);
  } else {
    std_msgs_msg_dds__Float64MultiArray_ *m = (std_msgs_msg_dds__Float64MultiArray_ *)sample;
    m->layout.data_offset = (uint32_t)i;
    for (long j = 0; j < o->size; j++) m->data._buffer[j] = peer_f64_value(i, j);
  }
}

static void *make_sample(const struct peer_opts *o) {
  if (o->type == T_STRING) return calloc(1, sizeof(std_msgs_msg_dds__String_));
  if (o->type == T_JOINT_STATE) {
    sensor_msgs_msg_dds__JointState_ *m = calloc(1, sizeof *m);
    m->header.frame_id = calloc(1, 24);
    m->name._buffer = calloc((size_t)o->size + 1, sizeof(char *));
    m->name._length = m->name._maximum = (uint32_t)o->size;
    for (long j = 0; j < o->size; j++) {
      m->name._buffer[j] = calloc(1, 24);
      snprintf(m->name._buffer[j], 24, "j%ld", j);
    }
    m->position._buffer = calloc((size_t)o->size + 1, sizeof(double));
    m->velocity._buffer = calloc((size_t)o->size + 1, sizeof(double));
    m->position._length = m->position._maximum = m->velocity._length = m->velocity._maximum = (uint32_t)o->size;
    return m;
  }
  std_msgs_msg_dds__Float64MultiArray_ *m = calloc(1, sizeof *m);
  m->layout.dim._buffer = calloc(1, sizeof(std_msgs_msg_dds__MultiArrayDimension_));
  m->layout.dim._length = m->layout.dim._maximum = 1;
  m->layout.dim._buffer[0].label = "x";
  m->layout.dim._buffer[0].size = (uint32_t)o->size;
  m->layout.dim._buffer[0].stride = (uint32_t)o->size;
  m->data._buffer = calloc((size_t)o->size + 1, sizeof(double));
  m->data._length = m->data._maximum = (uint32_t)o->size;
  return m;
}

/* Returns the message index, and whether its content is exactly what publisher i sends. */
static long check(const struct peer_opts *o, const void *sample, int *ok, double *lat_us) {
  *lat_us = -1;
  *ok = 0;
  if (o->type == T_PARTICIPANT_ENTITIES_INFO) {
    const rmw_dds_common_msg_dds__ParticipantEntitiesInfo_ *m = sample;
    for (uint32_t k = 0; k < m->node_entities_info_seq._length; k++) {
      const rmw_dds_common_msg_dds__NodeEntitiesInfo_ *n = &m->node_entities_info_seq._buffer[k];
      printf("NODE %s %s %u %u\n", n->node_namespace, n->node_name, n->reader_gid_seq._length, n->writer_gid_seq._length);
    }
    *ok = 1;
    return -1;
  }
  if (o->type == T_STRING) {
    const std_msgs_msg_dds__String_ *m = sample;
    long i = peer_string_check(m->data, o->size);
    if (i >= 0) { *ok = 1; return i; }
    return i <= -2 ? -(i + 2) : -1;
  }
  if (o->type == T_JOINT_STATE) {
    const sensor_msgs_msg_dds__JointState_ *m = sample;
    int64_t sent = (int64_t)m->header.stamp.sec * 1000000000 + m->header.stamp.nanosec;
    *lat_us = (double)(peer_now_ns() - sent) / 1000.0;
    long i = atol(m->header.frame_id);
    int good = m->name._length == (uint32_t)o->size && m->position._length == (uint32_t)o->size &&
               m->velocity._length == (uint32_t)o->size && m->effort._length == 0;
    for (uint32_t j = 0; good && j < m->name._length; j++) {
      char expect[16];
      snprintf(expect, sizeof expect, "j%u", j);
      good = !strcmp(m->name._buffer[j], expect) && m->position._buffer[j] == peer_js_position(i, j) &&
             m->velocity._buffer[j] == -peer_js_position(i, j);
    }
    *ok = good;
    return i;
  }
  const std_msgs_msg_dds__Float64MultiArray_ *m = sample;
  long i = (long)m->layout.data_offset;
  int good = m->layout.dim._length == 1 && !strcmp(m->layout.dim._buffer[0].label, "x") &&
             m->layout.dim._buffer[0].size == (uint32_t)o->size && m->data._length == (uint32_t)o->size;
  for (uint32_t j = 0; good && j < m->data._length; j++) good = m->data._buffer[j] == peer_f64_value(i, j);
  *ok = good;
  return i;
}

int main(int argc, char **argv) {
  struct peer_opts o;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (peer_parse(argc, argv, &o) != 0) { peer_usage(argv[0]); return 1; }
  if (o.pub && o.type == T_PARTICIPANT_ENTITIES_INFO) { fprintf(stderr, "ParticipantEntitiesInfo: subscribe only\n"); return 1; }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);

  /* The domain's config: CYCLONEDDS_URI (interface, multicast) plus what the command line adds. */
  char config[4096];
  const char *env = getenv("CYCLONEDDS_URI");
  int n = snprintf(config, sizeof config, "%s", env ? env : "");
  if (o.lease > 0)
    n += snprintf(config + n, sizeof config - (size_t)n,
                  "%s<CycloneDDS><Domain Id=\"any\"><Discovery><LeaseDuration>%gs</LeaseDuration></Discovery></Domain></CycloneDDS>",
                  n ? "," : "", o.lease);
  if (o.peer)
    n += snprintf(config + n, sizeof config - (size_t)n,
                  "%s<CycloneDDS><Domain Id=\"any\"><General><AllowMulticast>false</AllowMulticast></General>"
                  "<Discovery><ParticipantIndex>auto</ParticipantIndex><Peers><Peer Address=\"%s\"/></Peers></Discovery></Domain></CycloneDDS>",
                  n ? "," : "", o.peer);
  if (n > 0) {
    dds_entity_t domain = dds_create_domain((dds_domainid_t)o.domain, config);
    if (domain < 0) { fprintf(stderr, "dds_create_domain: %s\n", dds_strretcode(-domain)); return 4; }
  }

  dds_entity_t participant = dds_create_participant((dds_domainid_t)o.domain, NULL, NULL);
  if (participant < 0) { fprintf(stderr, "dds_create_participant: %s\n", dds_strretcode(-participant)); return 4; }
  dds_entity_t topic = dds_create_topic(participant, descriptor(o.type), o.topic, NULL, NULL);
  if (topic < 0) { fprintf(stderr, "dds_create_topic: %s\n", dds_strretcode(-topic)); return 4; }

  dds_qos_t *qos = dds_create_qos();
  dds_qset_reliability(qos, o.reliable ? DDS_RELIABILITY_RELIABLE : DDS_RELIABILITY_BEST_EFFORT, DDS_SECS(1));
  dds_qset_durability(qos, o.transient_local ? DDS_DURABILITY_TRANSIENT_LOCAL : DDS_DURABILITY_VOLATILE);
  dds_qset_history(qos, DDS_HISTORY_KEEP_LAST, o.depth);

  int64_t deadline = peer_now_ns() + (int64_t)(o.timeout * 1e9);
  int rc = 0;
  dds_entity_t ws = dds_create_waitset(participant);

  if (o.pub) {
    dds_entity_t writer = dds_create_writer(participant, topic, qos, NULL);
    if (writer < 0) { fprintf(stderr, "dds_create_writer: %s\n", dds_strretcode(-writer)); return 4; }
    dds_set_status_mask(writer, DDS_PUBLICATION_MATCHED_STATUS);
    dds_waitset_attach(ws, writer, writer);
    printf("READY\n");
    dds_publication_matched_status_t st;
    uint32_t last = 0;
    for (;;) {
      dds_get_publication_matched_status(writer, &st);
      if (st.current_count != last) { last = st.current_count; printf("MATCHED %u\n", last); }
      if ((int)st.current_count >= o.wait_match || stop_requested) break;
      if (peer_now_ns() > deadline) { printf("DONE sent=0 timeout=match\n"); return 2; }
      dds_waitset_wait(ws, NULL, 0, DDS_MSECS(50));
    }
    /* a matched reader can still miss the first volatile sample if its side has not matched us yet */
    if (o.wait_match > 0) dds_sleepfor(DDS_MSECS(200));
    void *sample = make_sample(&o);
    size_t strcap = (size_t)(o.size > 64 ? o.size : 64) + 32;
    char *strbuf = malloc(strcap);
    int64_t start = peer_now_ns();
    long sent = 0;
    for (long i = 0; i < o.count && !stop_requested; i++) {
      if (o.rate > 0) peer_sleep_until(start + (int64_t)((double)i * 1e9 / o.rate));
      fill(&o, sample, i, strbuf, strcap);
      dds_return_t w = dds_write(writer, sample);
      if (w < 0) { fprintf(stderr, "dds_write: %s\n", dds_strretcode(-w)); rc = 4; break; }
      sent++;
    }
    double elapsed = (double)(peer_now_ns() - start) / 1e9;
    if (o.reliable) dds_wait_for_acks(writer, DDS_SECS(5));
    printf("SENT %ld\n", sent);
    int64_t until = peer_now_ns() + (int64_t)(o.linger * 1e9);
    while (!stop_requested && peer_now_ns() < until) {
      dds_get_publication_matched_status(writer, &st);
      if (st.current_count != last) { last = st.current_count; printf("MATCHED %u\n", last); }
      dds_waitset_wait(ws, NULL, 0, DDS_MSECS(50));
    }
    printf("DONE sent=%ld elapsed_s=%.4f rate_hz=%.1f\n", sent, elapsed, elapsed > 0 ? (double)sent / elapsed : 0);
  } else {
    dds_entity_t reader = dds_create_reader(participant, topic, qos, NULL);
    if (reader < 0) { fprintf(stderr, "dds_create_reader: %s\n", dds_strretcode(-reader)); return 4; }
    dds_set_status_mask(reader, DDS_DATA_AVAILABLE_STATUS | DDS_SUBSCRIPTION_MATCHED_STATUS);
    dds_waitset_attach(ws, reader, reader);
    printf("READY\n");
    struct peer_stats stats;
    peer_stats_init(&stats, o.count);
    void *samples[64] = {0};
    dds_sample_info_t infos[64];
    uint32_t last = 0;
    int ever_matched = 0;
    for (;;) {
      dds_subscription_matched_status_t st;
      dds_get_subscription_matched_status(reader, &st);
      if (st.current_count != last) { last = st.current_count; printf("MATCHED %u\n", last); }
      if (last > 0) ever_matched = 1;
      int got;
      while ((got = dds_take(reader, samples, infos, 64, 64)) > 0) {
        for (int k = 0; k < got; k++) {
          if (!infos[k].valid_data) continue;
          int ok;
          double lat;
          long i = check(&o, samples[k], &ok, &lat);
          peer_record(&stats, &o, i, ok, lat);
        }
        dds_return_loan(reader, samples, got);
      }
      int have_all = stats.received >= o.count;
      if (have_all && !o.until_unmatched) break;
      if (have_all && o.until_unmatched && ever_matched && last == 0) { printf("UNMATCHED\n"); break; }
      if (stop_requested) break;
      if (peer_now_ns() > deadline) { rc = 2; break; }
      dds_waitset_wait(ws, NULL, 0, DDS_MSECS(100));
    }
    peer_print_done(&stats);
    if (rc == 0 && stats.bad > 0) rc = 3;
  }
  dds_delete_qos(qos);
  dds_delete(DDS_CYCLONEDDS_HANDLE);
  return rc;
}
