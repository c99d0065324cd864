/* Cyclone DDS service peer speaking rmw_cyclonedds's service convention: every request and reply starts with a
 * header (client id = the instance handle of the client's request writer, sequence number), the reply echoes the
 * request's header, and clients filter replies on their id. Client and service endpoints carry "clientid=…;" /
 * "serviceid=…;" in USER_DATA; the server replies only once it has matched the requesting client's reply reader,
 * and a client counts a service available when it has matched a request reader and a reply writer of one service
 * id. Output protocol and options: service_peer_common.h. */
#include <signal.h>
#include <unistd.h>
#include "dds/dds.h"
#include "service_peer_common.h"
#include "service_types.h"

static volatile sig_atomic_t stop_requested = 0;
static void on_signal(int sig) { (void)sig; stop_requested = 1; }

/* Every request and reply struct starts with these two members (-DCYCLONE_REQUEST_HEADER). */
struct rpc_header { uint64_t client_id; int64_t sequence; };

static const dds_topic_descriptor_t *request_desc(enum svc_type t) {
  switch (t) {
    case S_TRIGGER: return &std_srvs_srv_dds__Trigger_Request__desc;
    case S_SET_BOOL: return &std_srvs_srv_dds__SetBool_Request__desc;
    case S_GET_PARAMETERS: return &rcl_interfaces_srv_dds__GetParameters_Request__desc;
    case S_RESET_SIM: return &simulation_interfaces_srv_dds__ResetSimulation_Request__desc;
    case S_STEP_SIM: return &simulation_interfaces_srv_dds__StepSimulation_Request__desc;
    case S_GET_SIM_STATE: return &simulation_interfaces_srv_dds__GetSimulationState_Request__desc;
    case S_SET_SIM_STATE: return &simulation_interfaces_srv_dds__SetSimulationState_Request__desc;
    default: return &rcl_interfaces_srv_dds__SetParameters_Request__desc;
  }
}
static const dds_topic_descriptor_t *reply_desc(enum svc_type t) {
  switch (t) {
    case S_TRIGGER: return &std_srvs_srv_dds__Trigger_Response__desc;
    case S_SET_BOOL: return &std_srvs_srv_dds__SetBool_Response__desc;
    case S_GET_PARAMETERS: return &rcl_interfaces_srv_dds__GetParameters_Response__desc;
    case S_RESET_SIM: return &simulation_interfaces_srv_dds__ResetSimulation_Response__desc;
    case S_STEP_SIM: return &simulation_interfaces_srv_dds__StepSimulation_Response__desc;
    case S_GET_SIM_STATE: return &simulation_interfaces_srv_dds__GetSimulationState_Response__desc;
    case S_SET_SIM_STATE: return &simulation_interfaces_srv_dds__SetSimulationState_Response__desc;
    default: return &rcl_interfaces_srv_dds__SetParameters_Response__desc;
  }
}

/* The value of "key=" in an endpoint's USER_DATA ("a=1;b=2;"), copied into out; 0 when absent. */
static int userdata_value(const dds_qos_t *qos, const char *key, char *out, size_t cap) {
  void *ud = NULL;
  size_t sz = 0;
  out[0] = 0;
  if (!qos || !dds_qget_userdata(qos, &ud, &sz) || !ud) return 0;
  char *text = calloc(1, sz + 1);
  memcpy(text, ud, sz);
  dds_free(ud);
  size_t klen = strlen(key);
  int found = 0;
  for (char *part = text; part && *part; ) {
    char *end = strchr(part, ';');
    if (end) *end = 0;
    if (!strncmp(part, key, klen) && part[klen] == '=') { snprintf(out, cap, "%s", part + klen + 1); found = 1; break; }
    part = end ? end + 1 : NULL;
  }
  free(text);
  return found;
}

static void describe_value(const rcl_interfaces_msg_dds__ParameterValue_ *v, char *out, size_t cap) {
  switch (v->type) {
    case 1: snprintf(out, cap, "bool:%s", v->bool_value ? "true" : "false"); break;
    case 2: snprintf(out, cap, "int:%lld", (long long)v->integer_value); break;
    case 3: snprintf(out, cap, "double:%.17g", v->double_value); break;
    case 4: snprintf(out, cap, "string:%s", v->string_value); break;
    default: snprintf(out, cap, "type%u", (unsigned)v->type);
  }
}

static dds_qos_t *service_qos(const char *userdata) {
  dds_qos_t *qos = dds_create_qos();
  dds_qset_reliability(qos, DDS_RELIABILITY_RELIABLE, DDS_SECS(1));
  dds_qset_durability(qos, DDS_DURABILITY_VOLATILE);
  dds_qset_history(qos, DDS_HISTORY_KEEP_LAST, 10);
  dds_qset_userdata(qos, userdata, strlen(userdata));
  return qos;
}

/* Has `writer` matched a reader whose USER_DATA says key=value? */
static int matched_reader_with(dds_entity_t writer, const char *key, const char *value) {
  dds_instance_handle_t hs[64];
  dds_return_t n = dds_get_matched_subscriptions(writer, hs, 64);
  for (dds_return_t k = 0; k < n && k < 64; k++) {
    dds_builtintopic_endpoint_t *ep = dds_get_matched_subscription_data(writer, hs[k]);
    char v[256];
    int ok = ep && userdata_value(ep->qos, key, v, sizeof v) && !strcmp(v, value);
    if (ep) dds_builtintopic_free_endpoint(ep);
    if (ok) return 1;
  }
  return 0;
}

static int run_server(const struct svc_opts *o, dds_entity_t participant, dds_entity_t reqtopic, dds_entity_t reptopic, const char *id) {
  char ud[256];
  snprintf(ud, sizeof ud, "serviceid=%s;", id);
  dds_qos_t *qos = service_qos(ud);
  dds_entity_t reader = dds_create_reader(participant, reqtopic, qos, NULL);
  dds_entity_t writer = dds_create_writer(participant, reptopic, qos, NULL);
  dds_delete_qos(qos);
  if (reader < 0 || writer < 0) { fprintf(stderr, "create reader/writer failed\n"); return 4; }
  dds_set_status_mask(reader, DDS_DATA_AVAILABLE_STATUS);
  dds_entity_t ws = dds_create_waitset(participant);
  dds_waitset_attach(ws, reader, reader);
  printf("READY\n");
  int64_t deadline = svc_now_ns() + (int64_t)(o->timeout * 1e9);
  long answered = 0, received = 0;
  void *samples[1] = {NULL};
  dds_sample_info_t info;
  while (!stop_requested && svc_now_ns() < deadline && (o->count <= 0 || answered < o->count)) {
    dds_waitset_wait(ws, NULL, 0, DDS_MSECS(50));
    for (;;) {
      samples[0] = NULL;
      if (dds_take(reader, samples, &info, 1, 1) <= 0) break;
      if (!info.valid_data) { dds_return_loan(reader, samples, 1); continue; }
      const struct rpc_header *h = samples[0];
      struct rpc_header header = *h;
      int data = 0;
      if (o->type == S_SET_BOOL) data = ((const std_srvs_srv_dds__SetBool_Request_ *)samples[0])->data;
      dds_return_loan(reader, samples, 1);
      if (!o->quiet) printf("REQUEST %ld %s\n", received, o->type == S_SET_BOOL ? (data ? "data=true" : "data=false") : "");
      received++;
      if (o->hold_ms < 0) continue; /* never replies: the client must time out (or see us die) */
      if (o->hold_ms > 0) svc_sleep_ms(o->hold_ms);
      /* rmw_cyclonedds: wait (bounded) until this client's reply reader is matched, or the client is gone */
      dds_builtintopic_endpoint_t *client = dds_get_matched_publication_data(reader, info.publication_handle);
      char clientid[256] = "";
      int has_id = client && userdata_value(client->qos, "clientid", clientid, sizeof clientid);
      if (client) dds_builtintopic_free_endpoint(client);
      if (has_id) {
        int64_t until = svc_now_ns() + 1000000000LL;
        while (!matched_reader_with(writer, "clientid", clientid) && svc_now_ns() < until) svc_sleep_ms(5);
      }
      char message[64];
      if (o->type == S_TRIGGER) {
        std_srvs_srv_dds__Trigger_Response_ r = {header.client_id, header.sequence, true, message};
        snprintf(message, sizeof message, "cyclone");
        dds_write(writer, &r);
      } else {
        std_srvs_srv_dds__SetBool_Response_ r = {header.client_id, header.sequence, data != 0, message};
        snprintf(message, sizeof message, "cyclone:%s", data ? "true" : "false");
        dds_write(writer, &r);
      }
      answered++;
    }
  }
  dds_wait_for_acks(writer, DDS_SECS(2));
  printf("DONE requests=%ld replies=%ld\n", received, answered);
  return 0;
}

/* Fills request i of the client's type; strings point into `scratch` (kept alive by the caller). */
static void *make_request(const struct svc_opts *o, struct rpc_header h, char *names_buf, char **name_ptrs, char *pname, char *pvalue) {
  if (o->type == S_TRIGGER) {
    std_srvs_srv_dds__Trigger_Request_ *r = calloc(1, sizeof *r);
    r->rpc_client_id = h.client_id; r->rpc_sequence = h.sequence;
    return r;
  }
  if (o->type == S_SET_BOOL) {
    std_srvs_srv_dds__SetBool_Request_ *r = calloc(1, sizeof *r);
    r->rpc_client_id = h.client_id; r->rpc_sequence = h.sequence; r->data = o->data != 0;
    return r;
  }
  if (o->type == S_RESET_SIM) {
    simulation_interfaces_srv_dds__ResetSimulation_Request_ *r = calloc(1, sizeof *r);
    r->rpc_client_id = h.client_id; r->rpc_sequence = h.sequence; r->scope = (uint8_t)o->value;
    return r;
  }
  if (o->type == S_STEP_SIM) {
    simulation_interfaces_srv_dds__StepSimulation_Request_ *r = calloc(1, sizeof *r);
    r->rpc_client_id = h.client_id; r->rpc_sequence = h.sequence; r->steps = (uint64_t)o->value;
    return r;
  }
  if (o->type == S_GET_SIM_STATE) {
    simulation_interfaces_srv_dds__GetSimulationState_Request_ *r = calloc(1, sizeof *r);
    r->rpc_client_id = h.client_id; r->rpc_sequence = h.sequence;
    return r;
  }
  if (o->type == S_SET_SIM_STATE) {
    simulation_interfaces_srv_dds__SetSimulationState_Request_ *r = calloc(1, sizeof *r);
    r->rpc_client_id = h.client_id; r->rpc_sequence = h.sequence; r->state.state = (uint8_t)o->value;
    return r;
  }
  if (o->type == S_GET_PARAMETERS) {
    rcl_interfaces_srv_dds__GetParameters_Request_ *r = calloc(1, sizeof *r);
    r->rpc_client_id = h.client_id; r->rpc_sequence = h.sequence;
    snprintf(names_buf, 1024, "%s", o->names);
    uint32_t n = 0;
    for (char *tok = strtok(names_buf, ","); tok && n < 32; tok = strtok(NULL, ",")) name_ptrs[n++] = tok;
    r->names._buffer = name_ptrs; r->names._length = r->names._maximum = n;
    return r;
  }
  rcl_interfaces_srv_dds__SetParameters_Request_ *r = calloc(1, sizeof *r);
  r->rpc_client_id = h.client_id; r->rpc_sequence = h.sequence;
  int type = svc_parse_set(o->set, pname, 256, pvalue, 256);
  rcl_interfaces_msg_dds__Parameter_ *p = calloc(1, sizeof *p);
  p->name = pname;
  p->value.type = (uint8_t)(type < 0 ? 0 : type);
  p->value.string_value = "";
  if (type == 1) p->value.bool_value = !strcmp(pvalue, "true");
  else if (type == 2) p->value.integer_value = atoll(pvalue);
  else if (type == 3) p->value.double_value = atof(pvalue);
  else if (type == 4) p->value.string_value = pvalue;
  r->parameters._buffer = p; r->parameters._length = r->parameters._maximum = 1;
  return r;
}

static void describe_reply(const struct svc_opts *o, const void *s, char *out, size_t cap) {
  if (o->type == S_TRIGGER || o->type == S_SET_BOOL) {
    const std_srvs_srv_dds__Trigger_Response_ *r = s; /* same layout as SetBool_Response_ */
    snprintf(out, cap, "success=%s message=%s", r->success ? "true" : "false", r->message);
  } else if (o->type == S_RESET_SIM || o->type == S_STEP_SIM || o->type == S_SET_SIM_STATE) {
    const simulation_interfaces_srv_dds__ResetSimulation_Response_ *r = s; /* the three responses: header + Result */
    snprintf(out, cap, "result=%u message=\"%s\"", (unsigned)r->result.result, r->result.error_message);
  } else if (o->type == S_GET_SIM_STATE) {
    const simulation_interfaces_srv_dds__GetSimulationState_Response_ *r = s;
    snprintf(out, cap, "state=%u result=%u", (unsigned)r->state.state, (unsigned)r->result.result);
  } else if (o->type == S_GET_PARAMETERS) {
    const rcl_interfaces_srv_dds__GetParameters_Response_ *r = s;
    int n = snprintf(out, cap, "values=%u", r->values._length);
    for (uint32_t k = 0; k < r->values._length && (size_t)n < cap; k++) {
      char v[300];
      describe_value(&r->values._buffer[k], v, sizeof v);
      n += snprintf(out + n, cap - (size_t)n, " %s", v);
    }
  } else {
    const rcl_interfaces_srv_dds__SetParameters_Response_ *r = s;
    int n = snprintf(out, cap, "results=%u", r->results._length);
    for (uint32_t k = 0; k < r->results._length && (size_t)n < cap; k++)
      n += snprintf(out + n, cap - (size_t)n, " successful=%s reason=\"%s\"", r->results._buffer[k].successful ? "true" : "false", r->results._buffer[k].reason);
  }
}

static int run_client(const struct svc_opts *o, dds_entity_t participant, dds_entity_t reqtopic, dds_entity_t reptopic, const char *id) {
  char ud[256];
  snprintf(ud, sizeof ud, "clientid=%s;", id);
  dds_qos_t *qos = service_qos(ud);
  dds_entity_t writer = dds_create_writer(participant, reqtopic, qos, NULL);
  dds_entity_t reader = dds_create_reader(participant, reptopic, qos, NULL);
  dds_delete_qos(qos);
  if (reader < 0 || writer < 0) { fprintf(stderr, "create reader/writer failed\n"); return 4; }
  dds_set_status_mask(reader, DDS_DATA_AVAILABLE_STATUS);
  dds_entity_t ws = dds_create_waitset(participant);
  dds_waitset_attach(ws, reader, reader);
  dds_instance_handle_t pubiid;
  dds_get_instance_handle(writer, &pubiid);
  printf("READY\n");
  int64_t deadline = svc_now_ns() + (int64_t)(o->timeout * 1e9);
  /* rmw_cyclonedds's rmw_service_server_is_available: a matched request reader with a serviceid, and a matched
   * reply writer with the same serviceid */
  for (;;) {
    if (stop_requested) return 0;
    if (svc_now_ns() > deadline) { printf("DONE calls=0 timeout=available\n"); return 2; }
    dds_instance_handle_t rds[16], wrs[16];
    dds_return_t nr = dds_get_matched_subscriptions(writer, rds, 16), nw = dds_get_matched_publications(reader, wrs, 16);
    int ok = 0;
    for (dds_return_t a = 0; a < nr && a < 16 && !ok; a++) {
      dds_builtintopic_endpoint_t *rd = dds_get_matched_subscription_data(writer, rds[a]);
      char sid[256];
      if (rd && userdata_value(rd->qos, "serviceid", sid, sizeof sid)) {
        char hash[128];
        /* what `ros2 service type`-style tools read: the type hash rmw puts next to the service id */
        if (userdata_value(rd->qos, "typehash", hash, sizeof hash)) printf("SERVER_TYPEHASH %s\n", hash);
        for (dds_return_t b = 0; b < nw && b < 16 && !ok; b++) {
          dds_builtintopic_endpoint_t *wr = dds_get_matched_publication_data(reader, wrs[b]);
          char sid2[256];
          ok = wr && userdata_value(wr->qos, "serviceid", sid2, sizeof sid2) && !strcmp(sid, sid2);
          if (wr) dds_builtintopic_free_endpoint(wr);
        }
      }
      if (rd) dds_builtintopic_free_endpoint(rd);
    }
    if (ok) break;
    svc_sleep_ms(20);
  }
  printf("AVAILABLE\n");
  if (o->settle > 0) svc_sleep_ms((long)(o->settle * 1000));
  double *rtt = malloc(sizeof(double) * (size_t)(o->count > 0 ? o->count : 1));
  long replies = 0, calls = 0;
  char names_buf[1024], *name_ptrs[32], pname[256], pvalue[256], text[4096];
  int rc = 0;
  for (long i = 0; i < o->count && !stop_requested; i++) {
    struct rpc_header h = {pubiid, (int64_t)(i + 1)};
    void *req = make_request(o, h, names_buf, name_ptrs, pname, pvalue);
    int64_t t0 = svc_now_ns();
    if (dds_write(writer, req) < 0) { fprintf(stderr, "dds_write failed\n"); return 4; }
    calls++;
    if (o->type == S_SET_PARAMETERS) free(((rcl_interfaces_srv_dds__SetParameters_Request_ *)req)->parameters._buffer);
    free(req);
    int got = 0;
    int64_t call_deadline = t0 + (int64_t)(o->call_timeout * 1e9);
    while (!got && !stop_requested && svc_now_ns() < call_deadline) {
      dds_waitset_wait(ws, NULL, 0, DDS_MSECS(10));
      void *samples[1] = {NULL};
      dds_sample_info_t info;
      while (dds_take(reader, samples, &info, 1, 1) > 0) {
        const struct rpc_header *rh = samples[0];
        if (info.valid_data && rh->client_id == pubiid && rh->sequence == h.sequence) {
          rtt[replies++] = (double)(svc_now_ns() - t0) / 1000.0;
          describe_reply(o, samples[0], text, sizeof text);
          if (!o->quiet) printf("REPLY %ld %.1f %s\n", i, rtt[replies - 1], text);
          got = 1;
        }
        dds_return_loan(reader, samples, 1);
        samples[0] = NULL;
      }
    }
    if (!got) { printf("TIMEOUT %ld\n", i); rc = 2; break; }
  }
  svc_print_done(calls, replies, rtt, replies);
  return rc;
}

int main(int argc, char **argv) {
  struct svc_opts o;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (svc_parse(argc, argv, &o) != 0) { svc_usage(argv[0]); return 1; }
  if (o.server && o.type != S_TRIGGER && o.type != S_SET_BOOL) { fprintf(stderr, "servers: Trigger or SetBool\n"); return 1; }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  if (o.lease > 0) {
    /* the domain's config: CYCLONEDDS_URI (interface, multicast) plus the lease */
    char config[4096];
    const char *env = getenv("CYCLONEDDS_URI");
    snprintf(config, sizeof config, "%s%s<CycloneDDS><Domain Id=\"any\"><Discovery><LeaseDuration>%gs</LeaseDuration></Discovery></Domain></CycloneDDS>",
             env ? env : "", env ? "," : "", o.lease);
    dds_entity_t domain = dds_create_domain((dds_domainid_t)o.domain, config);
    if (domain < 0) { fprintf(stderr, "dds_create_domain: %s\n", dds_strretcode(-domain)); return 4; }
  }
  dds_entity_t participant = dds_create_participant((dds_domainid_t)o.domain, NULL, NULL);
  if (participant < 0) { fprintf(stderr, "dds_create_participant: %s\n", dds_strretcode(-participant)); return 4; }
  dds_entity_t reqtopic = dds_create_topic(participant, request_desc(o.type), o.request_topic, NULL, NULL);
  dds_entity_t reptopic = dds_create_topic(participant, reply_desc(o.type), o.reply_topic, NULL, NULL);
  if (reqtopic < 0 || reptopic < 0) { fprintf(stderr, "dds_create_topic failed\n"); return 4; }
  /* a client/service id like rmw_cyclonedds's: unique per process and endpoint pair */
  char id[64];
  snprintf(id, sizeof id, "cyc.%d.%lld", (int)getpid(), (long long)svc_now_ns());
  int rc = o.server ? run_server(&o, participant, reqtopic, reptopic, id) : run_client(&o, participant, reqtopic, reptopic, id);
  dds_delete(DDS_CYCLONEDDS_HANDLE);
  return rc;
}
