#include "syslog_message.h"

#include <gtest/gtest.h>

namespace podmortem::controller {
namespace {

TEST(SyslogMessage, Rfc5424HeaderStructuredDataAndAUtf8Message) {
  SyslogFields fields;
  fields.facility = 16;
  fields.severityId = 4;  // High
  fields.timeMillis = 1'700'000'000'123;
  fields.hostName = "podmortem-7d9f cluster";
  fields.processId = "42";
  fields.key = R"(snapshot/a"b]c\d)";
  fields.pod = "prod/web-0";
  fields.message = R"({"class_uid":2004})";
  EXPECT_EQ(syslogMessage(fields),
            "<131>1 2023-11-14T22:13:20.123Z podmortem-7d9f-cluster podmortem 42 finding "
            R"([podmortem@32473 key="snapshot/a\"b\]c\\d" pod="prod/web-0"] )"
            "\xEF\xBB\xBF{\"class_uid\":2004}");
}

TEST(SyslogMessage, OctetCountingPrefixesTheLengthInBytes) {
  EXPECT_EQ(octetCounted("<134>1 - - - - - - \xC3\xA9"), "21 <134>1 - - - - - - \xC3\xA9");
}

TEST(SyslogMessage, OcsfSeverityMapsOntoSyslogSeverity) {
  EXPECT_EQ(syslogSeverity(5), 2);
  EXPECT_EQ(syslogSeverity(4), 3);
  EXPECT_EQ(syslogSeverity(3), 4);
  EXPECT_EQ(syslogSeverity(2), 5);
  EXPECT_EQ(syslogSeverity(1), 6);
  EXPECT_EQ(syslogSeverity(0), 5);
}

TEST(SyslogMessage, EmptyHeaderFieldsAreADash) {
  SyslogFields fields;
  fields.timeMillis = 0;
  std::string message = syslogMessage(fields);
  EXPECT_NE(message.find(" - podmortem - finding "), std::string::npos) << message;
}

}  // namespace
}  // namespace podmortem::controller
