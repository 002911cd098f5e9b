#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "https_client.h"
#include "podmortem/cli/application.h"
#include "podmortem/cli/application_hooks.h"
#include "podmortem/cli/config.h"
#include "test_support.h"

namespace podmortem::testing {

// The whole server, in-process, on ephemeral loopback ports with a generated CA, its policies
// and evidence in a temporary folder.
class RunningServer {
 public:
  explicit RunningServer(const std::string& policiesYaml = "", cli::ApplicationHooks hooks = {},
                         const std::function<void(cli::Config&)>& adjust = {}) {
    config_.server.listen = "127.0.0.1:0";
    config_.server.metricsListen = "127.0.0.1:0";
    config_.runtime.stateDir = (dir_.path() / "state").string();
    config_.evidence.dir = (dir_.path() / "evidence").string();
    config_.policies.dir = (dir_.path() / "policies").string();
    config_.server.threads = 2;
    config_.kubernetes.mode = kube::Mode::kNone;  // a test opts in with its fake API
    std::filesystem::create_directories(config_.policies.dir);
    if (!policiesYaml.empty()) writeFile(dir_.path() / "policies" / "policies.yaml", policiesYaml);
    if (adjust) adjust(config_);
    app_ = std::make_unique<cli::Application>(config_, hooks);
    app_->start();
  }

  HttpClient client() const {
    return HttpClient(app_->webhookPort(), ClientOptions{.caFile = app_->caFile()});
  }
  HttpClient metricsClient() const { return HttpClient(app_->metricsPort(), ClientOptions{}); }

  const cli::Config& config() const { return config_; }
  std::filesystem::path evidenceDir() const { return config_.evidence.dir; }
  cli::Application& app() { return *app_; }

  // Snapshot folders under the evidence dir (<ns>/<pod>/<id>), temporary ones excluded.
  std::vector<std::filesystem::path> snapshots() const {
    std::vector<std::filesystem::path> found;
    if (!std::filesystem::exists(evidenceDir())) return found;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(evidenceDir())) {
      if (entry.is_regular_file() && entry.path().filename() == "manifest.json") {
        found.push_back(entry.path().parent_path());
      }
    }
    return found;
  }

 private:
  TempDir dir_;
  cli::Config config_;
  std::unique_ptr<cli::Application> app_;
};

inline nlohmann::json parseJson(const std::string& text) { return nlohmann::json::parse(text); }

}  // namespace podmortem::testing
