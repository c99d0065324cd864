// Fast DDS 2.9 interop peer: publishes or subscribes ROS 2 messages (fastddsgen types from ros_types.idl) on a ROS
// topic ("rt/..."), over UDPv4 only (no shared memory, so every byte crosses the same path as with onestep).
// Output protocol and exit codes: peer_common.h.
#include <csignal>
#include <memory>
#include <string>

#include <fastdds/dds/domain/DomainParticipant.hpp>
#include <fastdds/dds/domain/DomainParticipantFactory.hpp>
#include <fastdds/dds/log/Log.hpp>
#include <fastdds/dds/publisher/DataWriter.hpp>
#include <fastdds/dds/publisher/Publisher.hpp>
#include <fastdds/dds/publisher/qos/DataWriterQos.hpp>
#include <fastdds/dds/subscriber/DataReader.hpp>
#include <fastdds/dds/subscriber/SampleInfo.hpp>
#include <fastdds/dds/subscriber/Subscriber.hpp>
#include <fastdds/dds/subscriber/qos/DataReaderQos.hpp>
#include <fastdds/dds/topic/TypeSupport.hpp>
#include <fastdds/rtps/transport/UDPv4TransportDescriptor.h>
#include <fastrtps/utils/IPLocator.h>

#include "peer_common.h"
#include "ros_typesPubSubTypes.h"

using namespace eprosima::fastdds::dds;
using eprosima::fastrtps::Duration_t;
using JointState = sensor_msgs::msg::dds_::JointState_;
using F64Array = std_msgs::msg::dds_::Float64MultiArray_;
using RosString = std_msgs::msg::dds_::String_;

static volatile std::sig_atomic_t stop_requested = 0;
static void on_signal(int) { stop_requested = 1; }

static Duration_t seconds(double s) { return Duration_t(static_cast<int32_t>(s), static_cast<uint32_t>((s - static_cast<int32_t>(s)) * 1e9)); }

struct Sample {
  RosString str;
  JointState js;
  F64Array f64;
  void *ptr(peer_type t) { return t == T_STRING ? static_cast<void *>(&str) : t == T_JOINT_STATE ? static_cast<void *>(&js) : static_cast<void *>(&f64); }
};

static void prepare(const peer_opts &o, Sample &s) {
  s.js.name().clear();
  for (long j = 0; j < o.size; j++) s.js.name().push_back("j" + std::to_string(j));
  s.js.position().assign(o.size, 0.0);
  s.js.velocity().assign(o.size, 0.0);
  std_msgs::msg::dds_::MultiArrayDimension_ dim;
  dim.label("x");
  dim.size(static_cast<uint32_t>(o.size));
  dim.stride(static_cast<uint32_t>(o.size));
  s.f64.layout().dim().assign(1, dim);
  s.f64.data().assign(o.size, 0.0);
}

static void fill(const peer_opts &o, Sample &s, long i, std::string &strbuf) {
  if (o.type == T_STRING) {
    size_t len = peer_string_fill(&strbuf[0], strbuf.size(), i, o.size);
    s.str.data(std::string(strbuf.data(), len));
  } else if (o.type == T_JOINT_STATE) {
    s.js.header().frame_id(std::to_string(i));
    for (long j = 0; j < o.size; j++) {
      s.js.position()[j] = peer_js_position(i, j);
      s.js.velocity()[j] = -peer_js_position(i, j);
    }
    int64_t now = peer_now_ns();
    s.js.header().stamp().sec(static_cast<int32_t>(now / 1000000000));
    s.js.header().stamp().nanosec(static_cast<uint32_t>(now % 1000000000));
  } else {
    s.f64.layout().data_offset(static_cast<uint32_t>(i));
    for (long j = 0; j < o.size; j++) s.f64.data()[j] = peer_f64_value(i, j);
  }
}

static long check(const peer_opts &o, Sample &s, int *ok, double *lat_us) {
  *lat_us = -1;
  *ok = 0;
  if (o.type == T_STRING) {
    long i = peer_string_check(s.str.data().c_str(), o.size);
    if (i >= 0) { *ok = 1; return i; }
    return i <= -2 ? -(i + 2) : -1;
  }
  if (o.type == T_JOINT_STATE) {
    const JointState &m = s.js;
    int64_t sent = static_cast<int64_t>(m.header().stamp().sec()) * 1000000000 + m.header().stamp().nanosec();
    *lat_us = static_cast<double>(peer_now_ns() - sent) / 1000.0;
    long i = std::atol(m.header().frame_id().c_str());
    bool good = static_cast<long>(m.name().size()) == o.size && static_cast<long>(m.position().size()) == o.size &&
                static_cast<long>(m.velocity().size()) == o.size && m.effort().empty();
    for (long j = 0; good && j < o.size; j++)
      good = m.name()[j] == "j" + std::to_string(j) && m.position()[j] == peer_js_position(i, j) && m.velocity()[j] == -peer_js_position(i, j);
    *ok = good;
    return i;
  }
  const F64Array &m = s.f64;
  long i = static_cast<long>(m.layout().data_offset());
  bool good = m.layout().dim().size() == 1 && m.layout().dim()[0].label() == "x" &&
              static_cast<long>(m.layout().dim()[0].size()) == o.size && static_cast<long>(m.data().size()) == o.size;
  for (long j = 0; good && j < o.size; j++) good = m.data()[j] == peer_f64_value(i, j);
  *ok = good;
  return i;
}

int main(int argc, char **argv) {
  peer_opts o;
  setvbuf(stdout, nullptr, _IOLBF, 0);
  if (peer_parse(argc, argv, &o) != 0) { peer_usage(argv[0]); return 1; }
  if (o.type == T_PARTICIPANT_ENTITIES_INFO) { std::fprintf(stderr, "ParticipantEntitiesInfo: only the Cyclone peer reads it\n"); return 1; }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  Log::SetVerbosity(Log::Error);

  DomainParticipantQos pqos = PARTICIPANT_QOS_DEFAULT;
  pqos.name("onestep_fastdds_peer");
  if (o.lease > 0) {
    pqos.wire_protocol().builtin.discovery_config.leaseDuration = seconds(o.lease);
    pqos.wire_protocol().builtin.discovery_config.leaseDuration_announcementperiod = seconds(o.lease / 3);
  }
  pqos.transport().use_builtin_transports = false;
  auto udp = std::make_shared<eprosima::fastdds::rtps::UDPv4TransportDescriptor>();
  pqos.transport().user_transports.push_back(udp);
  if (o.peer) {
    eprosima::fastrtps::rtps::Locator_t peer;
    eprosima::fastrtps::rtps::IPLocator::setIPv4(peer, o.peer);
    pqos.wire_protocol().builtin.initialPeersList.push_back(peer);
  }
  DomainParticipant *participant = DomainParticipantFactory::get_instance()->create_participant(o.domain, pqos);
  if (!participant) { std::fprintf(stderr, "create_participant failed\n"); return 4; }

  TypeSupport type(o.type == T_STRING ? static_cast<eprosima::fastdds::dds::TopicDataType *>(new std_msgs::msg::dds_::String_PubSubType())
                   : o.type == T_JOINT_STATE ? static_cast<eprosima::fastdds::dds::TopicDataType *>(new sensor_msgs::msg::dds_::JointState_PubSubType())
                                             : static_cast<eprosima::fastdds::dds::TopicDataType *>(new std_msgs::msg::dds_::Float64MultiArray_PubSubType()));
  type.register_type(participant);
  Topic *topic = participant->create_topic(o.topic, type.get_type_name(), TOPIC_QOS_DEFAULT);
  if (!topic) { std::fprintf(stderr, "create_topic failed\n"); return 4; }

  int64_t deadline = peer_now_ns() + static_cast<int64_t>(o.timeout * 1e9);
  int rc = 0;
  Sample sample;
  prepare(o, sample);

  if (o.pub) {
    Publisher *publisher = participant->create_publisher(PUBLISHER_QOS_DEFAULT);
    DataWriterQos wqos = DATAWRITER_QOS_DEFAULT;
    wqos.reliability().kind = o.reliable ? RELIABLE_RELIABILITY_QOS : BEST_EFFORT_RELIABILITY_QOS;
    wqos.durability().kind = o.transient_local ? TRANSIENT_LOCAL_DURABILITY_QOS : VOLATILE_DURABILITY_QOS;
    wqos.history().kind = KEEP_LAST_HISTORY_QOS;
    wqos.history().depth = o.depth;
    // unbounded ROS types: size payloads per sample instead of by the generated type's bound
    wqos.endpoint().history_memory_policy = eprosima::fastrtps::rtps::DYNAMIC_REUSABLE_MEMORY_MODE;
    DataWriter *writer = publisher->create_datawriter(topic, wqos);
    if (!writer) { std::fprintf(stderr, "create_datawriter failed\n"); return 4; }
    std::printf("READY\n");
    PublicationMatchedStatus st;
    int32_t last = 0;
    for (;;) {
      writer->get_publication_matched_status(st);
      if (st.current_count != last) { last = st.current_count; std::printf("MATCHED %d\n", last); }
      if (st.current_count >= o.wait_match || stop_requested) break;
      if (peer_now_ns() > deadline) { std::printf("DONE sent=0 timeout=match\n"); return 2; }
      peer_sleep_until(peer_now_ns() + 20000000);
    }
    if (o.wait_match > 0) peer_sleep_until(peer_now_ns() + 200000000);
    std::string strbuf(static_cast<size_t>(o.size > 64 ? o.size : 64) + 32, '\0');
    int64_t start = peer_now_ns();
    long sent = 0;
    for (long i = 0; i < o.count && !stop_requested; i++) {
      if (o.rate > 0) peer_sleep_until(start + static_cast<int64_t>(static_cast<double>(i) * 1e9 / o.rate));
      fill(o, sample, i, strbuf);
      if (!writer->write(sample.ptr(o.type))) { std::fprintf(stderr, "write failed at %ld\n", i); rc = 4; break; }
      sent++;
    }
    double elapsed = static_cast<double>(peer_now_ns() - start) / 1e9;
    if (o.reliable) writer->wait_for_acknowledgments(Duration_t(5, 0));
    std::printf("SENT %ld\n", sent);
    int64_t until = peer_now_ns() + static_cast<int64_t>(o.linger * 1e9);
    while (!stop_requested && peer_now_ns() < until) {
      writer->get_publication_matched_status(st);
      if (st.current_count != last) { last = st.current_count; std::printf("MATCHED %d\n", last); }
      peer_sleep_until(peer_now_ns() + 50000000);
    }
    std::printf("DONE sent=%ld elapsed_s=%.4f rate_hz=%.1f\n", sent, elapsed, elapsed > 0 ? sent / elapsed : 0);
  } else {
    Subscriber *subscriber = participant->create_subscriber(SUBSCRIBER_QOS_DEFAULT);
    DataReaderQos rqos = DATAREADER_QOS_DEFAULT;
    rqos.reliability().kind = o.reliable ? RELIABLE_RELIABILITY_QOS : BEST_EFFORT_RELIABILITY_QOS;
    rqos.durability().kind = o.transient_local ? TRANSIENT_LOCAL_DURABILITY_QOS : VOLATILE_DURABILITY_QOS;
    rqos.history().kind = KEEP_LAST_HISTORY_QOS;
    rqos.history().depth = o.depth;
    rqos.endpoint().history_memory_policy = eprosima::fastrtps::rtps::DYNAMIC_REUSABLE_MEMORY_MODE;
    DataReader *reader = subscriber->create_datareader(topic, rqos);
    if (!reader) { std::fprintf(stderr, "create_datareader failed\n"); return 4; }
    std::printf("READY\n");
    peer_stats stats;
    peer_stats_init(&stats, o.count);
    int32_t last = 0;
    bool ever_matched = false;
    SampleInfo info;
    for (;;) {
      SubscriptionMatchedStatus st;
      reader->get_subscription_matched_status(st);
      if (st.current_count != last) { last = st.current_count; std::printf("MATCHED %d\n", last); }
      if (last > 0) ever_matched = true;
      while (reader->take_next_sample(sample.ptr(o.type), &info) == ReturnCode_t::RETCODE_OK) {
        if (!info.valid_data) continue;
        int ok;
        double lat;
        long i = check(o, sample, &ok, &lat);
        peer_record(&stats, &o, i, ok, lat);
      }
      bool have_all = stats.received >= o.count;
      if (have_all && !o.until_unmatched) break;
      if (have_all && o.until_unmatched && ever_matched && last == 0) { std::printf("UNMATCHED\n"); break; }
      if (stop_requested) break;
      if (peer_now_ns() > deadline) { rc = 2; break; }
      reader->wait_for_unread_message(Duration_t(0, 100000000));
    }
    peer_print_done(&stats);
    if (rc == 0 && stats.bad > 0) rc = 3;
  }
  participant->delete_contained_entities();
  DomainParticipantFactory::get_instance()->delete_participant(participant);
  return rc;
}
