#include "podmortem/cli/cli.h"

#include <cstdio>
#include <string>

#include "commands.h"

namespace podmortem::cli {

namespace {

constexpr const char* kUsage =
    "Usage: podmortem <command> [flags]\n"
    "\n"
    "Captures tamper-evident forensic evidence of Kubernetes pods before they are deleted.\n"
    "\n"
    "Commands:\n"
    "  serve     run the admission and audit webhook server\n"
    "  verify    check an evidence bundle or a whole evidence folder for tampering\n"
    "  replay    run audit log files through the policies and print what would have fired\n"
    "  report    one evidence bundle as an HTML timeline (or JSON) for the responder\n"
    "  version   print the version\n"
    "  help      print this text\n"
    "\n"
    "Run 'podmortem <command> --help' for a command's flags.\n";

}  // namespace

int usageError(const char* usage, const std::string& message) {
  std::fprintf(stderr, "podmortem: %s\n\n%s", message.c_str(), usage);
  return 2;
}

int run(int argc, char** argv) {
  if (argc < 2) return usageError(kUsage, "no command given");
  std::string command = argv[1];
  Arguments args(argc, argv, 2);
  try {
    if (command == "serve") return serveCommand(args);
    if (command == "verify") return verifyCommand(args);
    if (command == "replay") return replayCommand(args);
    if (command == "report") return reportCommand(args);
    if (command == "version") return versionCommand(args);
    if (command == "help" || command == "--help" || command == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  } catch (const UsageError& error) {
    return usageError(kUsage, error.message);
  }
  return usageError(kUsage, "unknown command \"" + command + "\"");
}

}  // namespace podmortem::cli
