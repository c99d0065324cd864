/* Shared by the service interop peers (service_peer_cyclone.c, service_peer_fastdds.cpp): command line, timing,
 * round-trip statistics and the output protocol.
 *
 * Output, one event per line on stdout:
 *   READY                       entities created
 *   AVAILABLE                   (client) a server is matched both ways
 *   SERVER_TYPEHASH <RIHS01_…>  (Cyclone client) the typehash in the USER_DATA of a matched request reader
 *   REQUEST <i> <text>          (server) request i arrived; <text> describes it
 *   REPLY <i> <rtt_us> <text>   (client) the reply to call i; <text> describes it
 *   DONE k=v ...                summary (calls, replies, rtt_p50_us, rtt_p99_us, rtt_max_us)
 * Exit codes: 0 ok, 1 bad arguments, 2 timeout, 4 DDS error.
 *
 * Types (--type): Trigger, SetBool (std_srvs), GetParameters, SetParameters (rcl_interfaces); Cyclone client only:
 * ResetSimulation, StepSimulation, GetSimulationState, SetSimulationState (simulation_interfaces).
 *   client --value N                  ResetSimulation scope, StepSimulation steps, SetSimulationState state
 *   client --data true|false          SetBool request
 *   client --names a,b                GetParameters request
 *   client --set name=double:0.5      SetParameters request (types: bool, int, double, string)
 *   server replies: Trigger → success=true message="<vendor>"; SetBool → success=data message="<vendor>:<data>"
 */
#ifndef ONESTEP_SERVICE_PEER_COMMON_H
#define ONESTEP_SERVICE_PEER_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum svc_type { S_TRIGGER, S_SET_BOOL, S_GET_PARAMETERS, S_SET_PARAMETERS, S_RESET_SIM, S_STEP_SIM, S_GET_SIM_STATE, S_SET_SIM_STATE };

struct svc_opts {
  int server;             /* --role server|client */
  enum svc_type type;     /* --type */
  const char *service;    /* --service /policy_node/reload (ROS name) */
  char request_topic[512];
  char reply_topic[512];
  long count;             /* client: calls to make; server: requests to answer before exiting (0: until killed) */
  double timeout;         /* --timeout S: whole run */
  double call_timeout;    /* --call-timeout S: one call */
  int domain;             /* --domain D */
  int quiet;              /* --quiet: no REPLY lines (benchmarks) */
  int data;               /* --data true|false */
  const char *names;      /* --names a,b */
  const char *set;        /* --set name=type:value */
  long hold_ms;           /* --hold-ms N: server waits N ms before replying (-1: never replies) */
  double settle;          /* --settle S: client waits S after the service is available before the first call */
  double lease;           /* --lease S: participant lease duration (0: vendor default; Cyclone peer only) */
  long value;             /* --value N: simulation_interfaces request field (scope, steps, state) */
};

static void svc_usage(const char *prog) {
  fprintf(stderr,
          "usage: %s --role server|client --type Trigger|SetBool|GetParameters|SetParameters --service /name\n"
          "  [--count N] [--timeout S] [--call-timeout S] [--domain D] [--quiet] [--data true|false]\n"
          "  [--names a,b] [--set name=type:value] [--hold-ms N] [--settle S] [--lease S]\n",
          prog);
}

static int svc_parse(int argc, char **argv, struct svc_opts *o) {
  memset(o, 0, sizeof *o);
  o->server = -1;
  o->type = (enum svc_type)-1;
  o->count = 1;
  o->timeout = 30;
  o->call_timeout = 10;
  o->names = "";
  o->set = "";
  o->settle = 0.3;
  for (int i = 1; i < argc; i++) {
    const char *k = argv[i];
    if (!strcmp(k, "--quiet")) { o->quiet = 1; continue; }
    if (i + 1 >= argc) { fprintf(stderr, "missing value for %s\n", k); return -1; }
    const char *v = argv[++i];
    if (!strcmp(k, "--role")) {
      if (!strcmp(v, "server")) o->server = 1; else if (!strcmp(v, "client")) o->server = 0; else return -1;
    } else if (!strcmp(k, "--type")) {
      if (!strcmp(v, "Trigger")) o->type = S_TRIGGER;
      else if (!strcmp(v, "SetBool")) o->type = S_SET_BOOL;
      else if (!strcmp(v, "GetParameters")) o->type = S_GET_PARAMETERS;
      else if (!strcmp(v, "SetParameters")) o->type = S_SET_PARAMETERS;
      else if (!strcmp(v, "ResetSimulation")) o->type = S_RESET_SIM;
      else if (!strcmp(v, "StepSimulation")) o->type = S_STEP_SIM;
      else if (!strcmp(v, "GetSimulationState")) o->type = S_GET_SIM_STATE;
      else if (!strcmp(v, "SetSimulationState")) o->type = S_SET_SIM_STATE;
      else { fprintf(stderr, "bad --type %s\n", v); return -1; }
    } else if (!strcmp(k, "--service")) o->service = v;
    else if (!strcmp(k, "--count")) o->count = atol(v);
    else if (!strcmp(k, "--timeout")) o->timeout = atof(v);
    else if (!strcmp(k, "--call-timeout")) o->call_timeout = atof(v);
    else if (!strcmp(k, "--domain")) o->domain = atoi(v);
    else if (!strcmp(k, "--data")) o->data = !strcmp(v, "true");
    else if (!strcmp(k, "--names")) o->names = v;
    else if (!strcmp(k, "--set")) o->set = v;
    else if (!strcmp(k, "--hold-ms")) o->hold_ms = atol(v);
    else if (!strcmp(k, "--settle")) o->settle = atof(v);
    else if (!strcmp(k, "--lease")) o->lease = atof(v);
    else if (!strcmp(k, "--value")) o->value = atol(v);
    else { fprintf(stderr, "unknown option %s\n", k); return -1; }
  }
  if (o->server < 0 || (int)o->type < 0 || !o->service || o->service[0] != '/') {
    fprintf(stderr, "--role, --type and --service (absolute) are required\n");
    return -1;
  }
  /* rmw's mapping: "/a/b" → "rq/a/bRequest" and "rr/a/bReply" */
  snprintf(o->request_topic, sizeof o->request_topic, "rq/%sRequest", o->service + 1);
  snprintf(o->reply_topic, sizeof o->reply_topic, "rr/%sReply", o->service + 1);
  return 0;
}

static int64_t svc_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void svc_sleep_ms(long ms) {
  struct timespec d = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  nanosleep(&d, NULL);
}

/* --set "name=type:value" → parts; returns the ParameterType constant (rcl_interfaces/msg/ParameterType). */
static int svc_parse_set(const char *set, char *name, size_t ncap, char *value, size_t vcap) {
  const char *eq = strchr(set, '=');
  const char *colon = eq ? strchr(eq, ':') : NULL;
  if (!eq || !colon) return -1;
  size_t n = (size_t)(eq - set);
  if (n + 1 > ncap) return -1;
  memcpy(name, set, n);
  name[n] = 0;
  snprintf(value, vcap, "%s", colon + 1);
  size_t tl = (size_t)(colon - eq - 1);
  if (!strncmp(eq + 1, "bool", tl) && tl == 4) return 1;
  if (!strncmp(eq + 1, "int", tl) && tl == 3) return 2;
  if (!strncmp(eq + 1, "double", tl) && tl == 6) return 3;
  if (!strncmp(eq + 1, "string", tl) && tl == 6) return 4;
  return -1;
}

static int svc_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void svc_print_done(long calls, long replies, double *rtt, long n) {
  double p50 = -1, p99 = -1, mx = -1;
  if (n > 0) {
    qsort(rtt, (size_t)n, sizeof(double), svc_cmp_double);
    p50 = rtt[(long)(0.50 * (double)(n - 1))];
    p99 = rtt[(long)(0.99 * (double)(n - 1))];
    mx = rtt[n - 1];
  }
  printf("DONE calls=%ld replies=%ld rtt_p50_us=%.1f rtt_p99_us=%.1f rtt_max_us=%.1f\n", calls, replies, p50, p99, mx);
  fflush(stdout);
}

#endif
