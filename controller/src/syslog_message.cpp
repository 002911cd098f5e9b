#include "syslog_message.h"

#include <chrono>

#include "podmortem/core/timestamp.h"

namespace podmortem::controller {

namespace {

// HOSTNAME, APP-NAME, PROCID and MSGID are printable US-ASCII without spaces (RFC 5424 6.2);
// "-" stands for an empty one.
std::string headerField(const std::string& value, size_t maxLength) {
  std::string field;
  for (char c : value.substr(0, maxLength)) field += (c >= 33 && c <= 126) ? c : '-';
  return field.empty() ? "-" : field;
}

// A PARAM-VALUE escapes '"', '\' and ']' with a backslash (RFC 5424 6.3.3).
std::string paramValue(const std::string& value) {
  std::string escaped;
  for (char c : value) {
    if (c == '"' || c == '\\' || c == ']') escaped += '\\';
    escaped += c;
  }
  return escaped;
}

}  // namespace

int syslogSeverity(int ocsfSeverityId) {
  switch (ocsfSeverityId) {
    case 5:
      return 2;
    case 4:
      return 3;
    case 3:
      return 4;
    case 2:
      return 5;
    case 1:
      return 6;
    default:
      return 5;
  }
}

std::string syslogMessage(const SyslogFields& fields) {
  auto time = std::chrono::system_clock::time_point(std::chrono::milliseconds(fields.timeMillis));
  std::string message = "<" + std::to_string(fields.facility * 8 + syslogSeverity(fields.severityId)) +
                        ">1 " + core::formatTimestamp(time) + " " + headerField(fields.hostName, 255) +
                        " podmortem " + headerField(fields.processId, 128) + " finding [" +
                        kSyslogSdId + " key=\"" + paramValue(fields.key) + "\" pod=\"" +
                        paramValue(fields.pod) + "\"] ";
  message += "\xEF\xBB\xBF";  // BOM: the MSG is UTF-8 (RFC 5424 6.4)
  message += fields.message;
  return message;
}

std::string octetCounted(const std::string& message) {
  return std::to_string(message.size()) + " " + message;
}

}  // namespace podmortem::controller
