#include "podmortem/webhooks/metrics_registry.h"

#include <dirent.h>
#include <prometheus/collectable.h>
#include <prometheus/gauge.h>
#include <prometheus/text_serializer.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include "podmortem/core/version.h"

namespace podmortem::webhooks {

namespace {

// The standard process_* metrics (as the Go and Python clients export them). prometheus-cpp has
// no process collector, so these are read from /proc here.
class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> families;
    std::ifstream statFile("/proc/self/stat");
    std::string stat((std::istreambuf_iterator<char>(statFile)), std::istreambuf_iterator<char>());
    // Fields after the command name, which is in parentheses and may hold spaces.
    auto close = stat.rfind(')');
    if (close == std::string::npos) return families;
    std::istringstream fields(stat.substr(close + 2));
    std::vector<std::string> values;
    for (std::string value; fields >> value;) values.push_back(value);
    // values[0] is field 3 (state); utime=14, stime=15, starttime=22, vsize=23, rss=24.
    auto field = [&](size_t number) { return std::stod(values.at(number - 3)); };
    double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    double pageSize = static_cast<double>(sysconf(_SC_PAGESIZE));

    double bootTime = 0;
    std::ifstream procStat("/proc/stat");
    for (std::string line; std::getline(procStat, line);) {
      if (line.rfind("btime ", 0) == 0) bootTime = std::stod(line.substr(6));
    }
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);

    add(families, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
        prometheus::MetricType::Counter, (field(14) + field(15)) / ticks);
    add(families, "process_resident_memory_bytes", "Resident memory size in bytes.",
        prometheus::MetricType::Gauge, field(24) * pageSize);
    add(families, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
        prometheus::MetricType::Gauge, field(23));
    add(families, "process_start_time_seconds",
        "Start time of the process since unix epoch in seconds.", prometheus::MetricType::Gauge,
        bootTime + field(22) / ticks);
    add(families, "process_open_fds", "Number of open file descriptors.",
        prometheus::MetricType::Gauge, static_cast<double>(openFds()));
    add(families, "process_max_fds", "Maximum number of open file descriptors.",
        prometheus::MetricType::Gauge, static_cast<double>(limit.rlim_cur));
    return families;
  }

 private:
  static void add(std::vector<prometheus::MetricFamily>& families, const char* name,
                  const char* help, prometheus::MetricType type, double value) {
    prometheus::ClientMetric metric;
    if (type == prometheus::MetricType::Counter) {
      metric.counter.value = value;
    } else {
      metric.gauge.value = value;
    }
    families.push_back({name, help, type, {metric}});
  }

  static size_t openFds() {
    size_t count = 0;
    if (DIR* dir = opendir("/proc/self/fd")) {
      while (readdir(dir) != nullptr) ++count;
      closedir(dir);
    }
    return count > 3 ? count - 3 : 0;  // ".", ".." and the descriptor of the listing itself
  }
};

}  // namespace

class MetricsRegistry::ObservedFamilies final : public prometheus::Collectable {
 public:
  struct Family {
    std::string name;
    std::string help;
    prometheus::MetricType type;
    std::function<std::vector<ObservedSample>()> read;
  };

  void add(Family family) {
    std::lock_guard lock(mutex_);
    families_.push_back(std::move(family));
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::lock_guard lock(mutex_);
    std::vector<prometheus::MetricFamily> out;
    for (const auto& family : families_) {
      prometheus::MetricFamily collected{family.name, family.help, family.type, {}};
      for (const auto& sample : family.read()) {
        prometheus::ClientMetric metric;
        for (const auto& [name, value] : sample.labels) metric.label.push_back({name, value});
        if (family.type == prometheus::MetricType::Counter) {
          metric.counter.value = sample.value;
        } else {
          metric.gauge.value = sample.value;
        }
        collected.metric.push_back(std::move(metric));
      }
      out.push_back(std::move(collected));
    }
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Family> families_;
};

MetricsRegistry::MetricsRegistry()
    : registry_(std::make_shared<prometheus::Registry>()),
      processCollector_(std::make_shared<ProcessCollector>()),
      observed_(std::make_shared<ObservedFamilies>()) {
  prometheus::BuildGauge()
      .Name("podmortem_build_info")
      .Help("Always 1; the version label says which podmortem is running.")
      .Register(*registry_)
      .Add({{"version", std::string(core::version())}})
      .Set(1);
}

MetricsRegistry::~MetricsRegistry() = default;

void MetricsRegistry::observe(std::string name, std::string help, prometheus::MetricType type,
                              std::function<std::vector<ObservedSample>()> read) {
  observed_->add({std::move(name), std::move(help), type, std::move(read)});
}

std::string MetricsRegistry::render() const {
  auto families = registry_->Collect();
  const prometheus::Collectable* more[] = {processCollector_.get(), observed_.get()};
  for (const auto* collectable : more) {
    auto collected = collectable->Collect();
    families.insert(families.end(), collected.begin(), collected.end());
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace podmortem::webhooks
