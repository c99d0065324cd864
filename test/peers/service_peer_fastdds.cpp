// Fast DDS 2.9 service peer speaking rmw_fastrtps's service convention: requests and replies are the bare messages;
// a request is named by its sample identity (request writer GUID + sequence number); a client names its reply
// reader as the related sample identity of the request; the server waits until its reply writer has matched that
// reader and answers with the request's identity (reader GUID, request sequence number) as the reply's related
// sample identity; a client takes the replies whose related identity names its reader or writer. UDPv4 only.
// Output protocol and options: service_peer_common.h.
#include <csignal>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fastdds/dds/domain/DomainParticipant.hpp>
#include <fastdds/dds/domain/DomainParticipantFactory.hpp>
#include <fastdds/dds/log/Log.hpp>
#include <fastdds/dds/publisher/DataWriter.hpp>
#include <fastdds/dds/publisher/DataWriterListener.hpp>
#include <fastdds/dds/publisher/Publisher.hpp>
#include <fastdds/dds/publisher/qos/DataWriterQos.hpp>
#include <fastdds/dds/subscriber/DataReader.hpp>
#include <fastdds/dds/subscriber/SampleInfo.hpp>
#include <fastdds/dds/subscriber/Subscriber.hpp>
#include <fastdds/dds/subscriber/qos/DataReaderQos.hpp>
#include <fastdds/dds/topic/TypeSupport.hpp>
#include <fastdds/rtps/common/WriteParams.h>
#include <fastdds/rtps/transport/UDPv4TransportDescriptor.h>

#include "service_peer_common.h"
#include "service_typesPubSubTypes.h"

using namespace eprosima::fastdds::dds;
using eprosima::fastrtps::Duration_t;
using eprosima::fastrtps::rtps::GUID_t;
using eprosima::fastrtps::rtps::SampleIdentity;
using eprosima::fastrtps::rtps::WriteParams;
namespace srv = std_srvs::srv::dds_;
namespace psrv = rcl_interfaces::srv::dds_;
namespace pmsg = rcl_interfaces::msg::dds_;

static volatile std::sig_atomic_t stop_requested = 0;
static void on_signal(int) { stop_requested = 1; }

/** The GUIDs of the readers a writer is matched with (what rmw_fastrtps's service listener keeps). */
class MatchedReaders : public DataWriterListener {
 public:
  void on_publication_matched(DataWriter *, const PublicationMatchedStatus &info) override {
    std::lock_guard<std::mutex> lock(mutex_);
    GUID_t guid = eprosima::fastrtps::rtps::iHandle2GUID(info.last_subscription_handle);
    if (info.current_count_change > 0) readers_.insert(guid);
    else if (info.current_count_change < 0) readers_.erase(guid);
  }
  bool has(const GUID_t &g) {
    std::lock_guard<std::mutex> lock(mutex_);
    return readers_.count(g) > 0;
  }

 private:
  std::mutex mutex_;
  std::set<GUID_t> readers_;
};

static TopicDataType *request_type(svc_type t) {
  switch (t) {
    case S_TRIGGER: return new srv::Trigger_Request_PubSubType();
    case S_SET_BOOL: return new srv::SetBool_Request_PubSubType();
    case S_GET_PARAMETERS: return new psrv::GetParameters_Request_PubSubType();
    default: return new psrv::SetParameters_Request_PubSubType();
  }
}
static TopicDataType *reply_type(svc_type t) {
  switch (t) {
    case S_TRIGGER: return new srv::Trigger_Response_PubSubType();
    case S_SET_BOOL: return new srv::SetBool_Response_PubSubType();
    case S_GET_PARAMETERS: return new psrv::GetParameters_Response_PubSubType();
    default: return new psrv::SetParameters_Response_PubSubType();
  }
}

static std::string describe_value(const pmsg::ParameterValue_ &v) {
  std::ostringstream os;
  switch (v.type()) {
    case 1: os << "bool:" << (v.bool_value() ? "true" : "false"); break;
    case 2: os << "int:" << v.integer_value(); break;
    case 3: os.precision(17); os << "double:" << v.double_value(); break;
    case 4: os << "string:" << v.string_value(); break;
    default: os << "type" << static_cast<int>(v.type());
  }
  return os.str();
}

struct Samples {
  srv::Trigger_Request_ trigger_req;
  srv::Trigger_Response_ trigger_rep;
  srv::SetBool_Request_ setbool_req;
  srv::SetBool_Response_ setbool_rep;
  psrv::GetParameters_Request_ get_req;
  psrv::GetParameters_Response_ get_rep;
  psrv::SetParameters_Request_ set_req;
  psrv::SetParameters_Response_ set_rep;
  void *request(svc_type t) {
    switch (t) {
      case S_TRIGGER: return &trigger_req;
      case S_SET_BOOL: return &setbool_req;
      case S_GET_PARAMETERS: return &get_req;
      default: return &set_req;
    }
  }
  void *reply(svc_type t) {
    switch (t) {
      case S_TRIGGER: return &trigger_rep;
      case S_SET_BOOL: return &setbool_rep;
      case S_GET_PARAMETERS: return &get_rep;
      default: return &set_rep;
    }
  }
};

static DataWriterQos writer_qos() {
  DataWriterQos q = DATAWRITER_QOS_DEFAULT;
  q.reliability().kind = RELIABLE_RELIABILITY_QOS;
  q.durability().kind = VOLATILE_DURABILITY_QOS;
  q.history().kind = KEEP_LAST_HISTORY_QOS;
  q.history().depth = 10;
  q.endpoint().history_memory_policy = eprosima::fastrtps::rtps::DYNAMIC_REUSABLE_MEMORY_MODE;
  return q;
}

static DataReaderQos reader_qos() {
  DataReaderQos q = DATAREADER_QOS_DEFAULT;
  q.reliability().kind = RELIABLE_RELIABILITY_QOS;
  q.durability().kind = VOLATILE_DURABILITY_QOS;
  q.history().kind = KEEP_LAST_HISTORY_QOS;
  q.history().depth = 10;
  q.endpoint().history_memory_policy = eprosima::fastrtps::rtps::DYNAMIC_REUSABLE_MEMORY_MODE;
  return q;
}

static int run_server(const svc_opts &o, Publisher *pub, Subscriber *sub, Topic *reqtopic, Topic *reptopic) {
  MatchedReaders matched;
  DataWriter *writer = pub->create_datawriter(reptopic, writer_qos(), &matched, StatusMask::publication_matched());
  DataReader *reader = sub->create_datareader(reqtopic, reader_qos());
  if (!writer || !reader) { std::fprintf(stderr, "create endpoints failed\n"); return 4; }
  std::printf("READY\n");
  Samples s;
  int64_t deadline = svc_now_ns() + static_cast<int64_t>(o.timeout * 1e9);
  long received = 0, answered = 0;
  while (!stop_requested && svc_now_ns() < deadline && (o.count <= 0 || answered < o.count)) {
    reader->wait_for_unread_message(Duration_t(0, 50000000));
    SampleInfo info;
    while (reader->take_next_sample(s.request(o.type), &info) == ReturnCode_t::RETCODE_OK) {
      if (!info.valid_data) continue;
      bool data = o.type == S_SET_BOOL && s.setbool_req.data();
      if (!o.quiet) std::printf("REQUEST %ld %s\n", received, o.type == S_SET_BOOL ? (data ? "data=true" : "data=false") : "");
      received++;
      if (o.hold_ms < 0) continue;
      if (o.hold_ms > 0) svc_sleep_ms(o.hold_ms);
      // the reply goes to the reader the client named, once matched (rmw_fastrtps's __rmw_send_response)
      SampleIdentity related = info.sample_identity;
      const GUID_t &reply_reader = info.related_sample_identity.writer_guid();
      if (reply_reader != GUID_t::unknown()) {
        related.writer_guid() = reply_reader;
        if ((reply_reader.entityId.value[3] & 0x04) != 0) {
          int64_t until = svc_now_ns() + 1000000000LL;
          while (!matched.has(reply_reader) && svc_now_ns() < until) svc_sleep_ms(5);
        }
      }
      WriteParams params;
      params.related_sample_identity(related);
      if (o.type == S_TRIGGER) {
        s.trigger_rep.success(true);
        s.trigger_rep.message("fastdds");
      } else {
        s.setbool_rep.success(data);
        s.setbool_rep.message(std::string("fastdds:") + (data ? "true" : "false"));
      }
      writer->write(s.reply(o.type), params);
      answered++;
    }
  }
  writer->wait_for_acknowledgments(Duration_t(2, 0));
  std::printf("DONE requests=%ld replies=%ld\n", received, answered);
  return 0;
}

static void fill_request(const svc_opts &o, Samples &s) {
  if (o.type == S_SET_BOOL) s.setbool_req.data(o.data != 0);
  if (o.type == S_GET_PARAMETERS) {
    std::vector<std::string> names;
    std::string all(o.names), part;
    std::istringstream in(all);
    while (std::getline(in, part, ',')) if (!part.empty()) names.push_back(part);
    s.get_req.names(names);
  }
  if (o.type == S_SET_PARAMETERS) {
    char name[256], value[256];
    int type = svc_parse_set(o.set, name, sizeof name, value, sizeof value);
    pmsg::Parameter_ p;
    p.name(name);
    p.value().type(static_cast<uint8_t>(type < 0 ? 0 : type));
    if (type == 1) p.value().bool_value(std::string(value) == "true");
    if (type == 2) p.value().integer_value(std::atoll(value));
    if (type == 3) p.value().double_value(std::atof(value));
    if (type == 4) p.value().string_value(value);
    s.set_req.parameters({p});
  }
}

static std::string describe_reply(const svc_opts &o, Samples &s) {
  std::ostringstream os;
  if (o.type == S_TRIGGER) os << "success=" << (s.trigger_rep.success() ? "true" : "false") << " message=" << s.trigger_rep.message();
  else if (o.type == S_SET_BOOL) os << "success=" << (s.setbool_rep.success() ? "true" : "false") << " message=" << s.setbool_rep.message();
  else if (o.type == S_GET_PARAMETERS) {
    os << "values=" << s.get_rep.values().size();
    for (const auto &v : s.get_rep.values()) os << " " << describe_value(v);
  } else {
    os << "results=" << s.set_rep.results().size();
    for (const auto &r : s.set_rep.results()) os << " successful=" << (r.successful() ? "true" : "false") << " reason=\"" << r.reason() << "\"";
  }
  return os.str();
}

static int run_client(const svc_opts &o, Publisher *pub, Subscriber *sub, Topic *reqtopic, Topic *reptopic) {
  DataWriter *writer = pub->create_datawriter(reqtopic, writer_qos());
  DataReader *reader = sub->create_datareader(reptopic, reader_qos());
  if (!writer || !reader) { std::fprintf(stderr, "create endpoints failed\n"); return 4; }
  const GUID_t reader_guid = reader->guid();
  const GUID_t writer_guid = writer->guid();
  std::printf("READY\n");
  int64_t deadline = svc_now_ns() + static_cast<int64_t>(o.timeout * 1e9);
  // rmw_fastrtps's service_server_is_available: the request writer and the reply reader are both matched
  for (;;) {
    if (stop_requested) return 0;
    if (svc_now_ns() > deadline) { std::printf("DONE calls=0 timeout=available\n"); return 2; }
    PublicationMatchedStatus ps;
    SubscriptionMatchedStatus ss;
    writer->get_publication_matched_status(ps);
    reader->get_subscription_matched_status(ss);
    if (ps.current_count > 0 && ss.current_count > 0) break;
    svc_sleep_ms(20);
  }
  std::printf("AVAILABLE\n");
  if (o.settle > 0) svc_sleep_ms(static_cast<long>(o.settle * 1000));
  Samples s;
  std::vector<double> rtt;
  long calls = 0;
  int rc = 0;
  for (long i = 0; i < o.count && !stop_requested; i++) {
    fill_request(o, s);
    WriteParams params;
    params.related_sample_identity().writer_guid() = reader_guid;
    int64_t t0 = svc_now_ns();
    if (!writer->write(s.request(o.type), params)) { std::fprintf(stderr, "write failed\n"); return 4; }
    calls++;
    const auto sent = params.sample_identity().sequence_number();
    bool got = false;
    int64_t call_deadline = t0 + static_cast<int64_t>(o.call_timeout * 1e9);
    while (!got && !stop_requested && svc_now_ns() < call_deadline) {
      reader->wait_for_unread_message(Duration_t(0, 10000000));
      SampleInfo info;
      while (reader->take_next_sample(s.reply(o.type), &info) == ReturnCode_t::RETCODE_OK) {
        if (!info.valid_data) continue;
        const SampleIdentity &rel = info.related_sample_identity;
        if ((rel.writer_guid() == reader_guid || rel.writer_guid() == writer_guid) && rel.sequence_number() == sent) {
          rtt.push_back(static_cast<double>(svc_now_ns() - t0) / 1000.0);
          if (!o.quiet) std::printf("REPLY %ld %.1f %s\n", i, rtt.back(), describe_reply(o, s).c_str());
          got = true;
        }
      }
    }
    if (!got) { std::printf("TIMEOUT %ld\n", i); rc = 2; break; }
  }
  svc_print_done(calls, static_cast<long>(rtt.size()), rtt.data(), static_cast<long>(rtt.size()));
  return rc;
}

int main(int argc, char **argv) {
  svc_opts o;
  setvbuf(stdout, nullptr, _IOLBF, 0);
  if (svc_parse(argc, argv, &o) != 0) { svc_usage(argv[0]); return 1; }
  if (o.server && o.type != S_TRIGGER && o.type != S_SET_BOOL) { std::fprintf(stderr, "servers: Trigger or SetBool\n"); return 1; }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  Log::SetVerbosity(Log::Error);
  DomainParticipantQos pqos = PARTICIPANT_QOS_DEFAULT;
  pqos.name("onestep_fastdds_service_peer");
  pqos.transport().use_builtin_transports = false;
  pqos.transport().user_transports.push_back(std::make_shared<eprosima::fastdds::rtps::UDPv4TransportDescriptor>());
  DomainParticipant *participant = DomainParticipantFactory::get_instance()->create_participant(o.domain, pqos);
  if (!participant) { std::fprintf(stderr, "create_participant failed\n"); return 4; }
  TypeSupport rq(request_type(o.type)), rp(reply_type(o.type));
  rq.register_type(participant);
  rp.register_type(participant);
  Topic *reqtopic = participant->create_topic(o.request_topic, rq.get_type_name(), TOPIC_QOS_DEFAULT);
  Topic *reptopic = participant->create_topic(o.reply_topic, rp.get_type_name(), TOPIC_QOS_DEFAULT);
  Publisher *pub = participant->create_publisher(PUBLISHER_QOS_DEFAULT);
  Subscriber *sub = participant->create_subscriber(SUBSCRIBER_QOS_DEFAULT);
  if (!reqtopic || !reptopic || !pub || !sub) { std::fprintf(stderr, "create topic/publisher/subscriber failed\n"); return 4; }
  int rc = o.server ? run_server(o, pub, sub, reqtopic, reptopic) : run_client(o, pub, sub, reqtopic, reptopic);
  participant->delete_contained_entities();
  DomainParticipantFactory::get_instance()->delete_participant(participant);
  return rc;
}
