#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <map>
#include <string>

#include "commands.h"
#include "podmortem/cli/application.h"
#include "podmortem/cli/config.h"
#include "podmortem/core/log.h"

namespace podmortem::cli {

namespace log = core::log;

namespace {

constexpr const char* kServeUsage =
    "Usage: podmortem serve [--config FILE] [flags]\n"
    "\n"
    "Runs the HTTPS webhook server (POST /validate, POST /audit, GET /healthz, GET /readyz) and\n"
    "the plain-HTTP metrics server (GET /metrics). Flags override the config file.\n"
    "\n"
    "Flags:\n"
    "  --config FILE             YAML configuration file\n"
    "  --listen HOST:PORT        webhook address (listen)\n"
    "  --metrics-listen HOST:PORT  metrics address (metricsListen)\n"
    "  --state-dir DIR           stateDir\n"
    "  --policies-dir DIR        policies.dir\n"
    "  --evidence-dir DIR        evidence.dir\n"
    "  --tls-cert-file FILE      tls.certFile\n"
    "  --tls-key-file FILE       tls.keyFile\n"
    "  --tls-client-ca-file FILE tls.clientCAFile\n"
    "  --log-level LEVEL         log.level (debug, info, warn, error)\n"
    "  --log-format FORMAT       log.format (json, text)\n"
    "  --set KEY=VALUE           any configuration key, e.g. --set limits.maxBodyBytes=1048576\n"
    "  --help                    this text\n"
    "  --help-config             every configuration key, what it does and its default\n";

const std::map<std::string, std::string>& flagKeys() {
  static const std::map<std::string, std::string> keys = {
      {"--listen", "listen"},
      {"--metrics-listen", "metricsListen"},
      {"--state-dir", "stateDir"},
      {"--policies-dir", "policies.dir"},
      {"--evidence-dir", "evidence.dir"},
      {"--tls-cert-file", "tls.certFile"},
      {"--tls-key-file", "tls.keyFile"},
      {"--tls-client-ca-file", "tls.clientCAFile"},
      {"--log-level", "log.level"},
      {"--log-format", "log.format"},
  };
  return keys;
}

// Connections are file descriptors: take every one the hard limit allows, so that a flood
// meets limits.maxConnections (where connections are shed) long before the descriptor limit.
void raiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  log::debug("open file limit raised", {{"limit", static_cast<uint64_t>(limit.rlim_cur)}});
}

int waitForSignal() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  int received = 0;
  sigwait(&signals, &received);
  return received;
}

}  // namespace

int serveCommand(Arguments& args) {
  std::string configFile;
  std::vector<std::pair<std::string, std::string>> overrides;
  while (auto flag = args.nextFlag()) {
    if (*flag == "--help" || *flag == "-h") {
      std::fputs(kServeUsage, stdout);
      return 0;
    }
    if (*flag == "--help-config") {
      for (const auto& key : configSchema().keys()) {
        std::printf("%-30s %s\n", key.key.c_str(), key.description.c_str());
      }
      return 0;
    }
    if (*flag == "--config") {
      configFile = args.flagValue(*flag);
    } else if (*flag == "--set") {
      std::string assignment = args.flagValue(*flag);
      auto eq = assignment.find('=');
      if (eq == std::string::npos) return usageError(kServeUsage, "--set needs KEY=VALUE");
      overrides.emplace_back(assignment.substr(0, eq), assignment.substr(eq + 1));
    } else if (auto key = flagKeys().find(*flag); key != flagKeys().end()) {
      overrides.emplace_back(key->second, args.flagValue(*flag));
    } else {
      return usageError(kServeUsage, "unknown flag " + *flag);
    }
  }
  if (!args.done()) return usageError(kServeUsage, "unexpected argument " + args.nextPositional());

  Config config;
  try {
    config = loadConfig(configFile, overrides);
  } catch (const core::ConfigError& error) {
    std::fprintf(stderr, "podmortem: configuration error: %s\n", error.what());
    return 2;
  }
  log::configure(config.log.level, config.log.format);

  // Block the stop signals before any thread starts, so only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  raiseOpenFileLimit();
  Application application(config);
  try {
    application.start();
  } catch (const core::ConfigError& error) {
    // Something outside the file that the configuration cannot work with (a NATS stream of
    // another shape): the operator must change one or the other.
    log::error("cannot start: configuration error", {{"error", error.what()}});
    return 2;
  } catch (const std::exception& error) {
    log::error("cannot start", {{"error", error.what()}});
    return 1;
  }
  int signal = waitForSignal();
  log::info("stopping", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
  application.stop();
  log::info("stopped");
  return 0;
}

}  // namespace podmortem::cli
