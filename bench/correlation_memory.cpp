// Indexes N synthetic audit events (default 1,000,000) into a spooling CorrelationWindow and
// reports resident memory per event, the indexing rate and a trail lookup, to check the budget
// of 512 resident bytes per indexed event. Usage: bench_correlation_memory [events]

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "podmortem/policy/correlation_window.h"

namespace {

namespace fs = std::filesystem;
using podmortem::policy::AuditEvent;
using podmortem::policy::AuditRequirement;
using podmortem::policy::CorrelationWindow;
using Clock = std::chrono::system_clock;

constexpr int kNamespaces = 200;
constexpr int kPods = 10'000;
constexpr int kUsers = 500;
constexpr int kSourceIps = 100;
constexpr size_t kRawBytes = 1500;

uint64_t residentBytes() {
  unsigned long size = 0;
  unsigned long resident = 0;
  FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr)
    return 0;
  if (std::fscanf(statm, "%lu %lu", &size, &resident) != 2)
    resident = 0;
  std::fclose(statm);
  return static_cast<uint64_t>(resident) * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

double mebibytes(uint64_t bytes) {
  return static_cast<double>(bytes) / (1 << 20);
}

std::string uuid(std::mt19937_64& random) {
  uint64_t high = random();
  uint64_t low = random();
  char text[40];
  std::snprintf(text, sizeof text, "%08x-%04x-4%03x-%04x-%012llx",
                static_cast<unsigned>(high >> 32), static_cast<unsigned>(high >> 16) & 0xffff,
                static_cast<unsigned>(high) & 0xfff,
                0x8000u | (static_cast<unsigned>(low >> 48) & 0x3fff),
                static_cast<unsigned long long>(low & 0xffffffffffffull));
  return text;
}

struct Shapes {
  std::vector<std::string> namespaces;
  std::vector<std::string> pods;  // pod i lives in namespaces[i % kNamespaces]
  std::vector<std::string> users;
  std::vector<std::string> sourceIps;
};

Shapes makeShapes() {
  Shapes shapes;
  for (int i = 0; i < kNamespaces; ++i)
    shapes.namespaces.push_back("team-" + std::to_string(i) + "-prod");
  char name[64];
  for (int i = 0; i < kPods; ++i) {
    // Deployment pods: <app>-<replicaset hash>-<suffix>.
    std::snprintf(name, sizeof name, "service-%d-7d9f8c6b%02x-%05x", i / 5, i % 256,
                  (i * 2654435761u) & 0xfffff);
    shapes.pods.push_back(name);
  }
  for (int i = 0; i < kUsers; ++i) {
    shapes.users.push_back(i % 2 == 0 ? "system:serviceaccount:team-" + std::to_string(i % 200) +
                                            "-prod:deployer-" + std::to_string(i)
                                      : "engineer-" + std::to_string(i) + "@example.com");
  }
  for (int i = 0; i < kSourceIps; ++i)
    shapes.sourceIps.push_back("10.20." + std::to_string(i / 50) + "." + std::to_string(i % 50));
  return shapes;
}

struct VerbShape {
  const char* verb;
  const char* resource;
  const char* subResource;
  int weight;
};

// Mostly reads, as on a real cluster; exec arrives as get (WebSocket) or create (SPDY).
constexpr VerbShape kVerbs[] = {
    {"get", "pods", "", 30},        {"list", "pods", "", 10},    {"watch", "pods", "", 8},
    {"patch", "pods", "status", 8}, {"create", "pods", "", 4},   {"delete", "pods", "", 3},
    {"get", "pods", "log", 4},      {"get", "pods", "exec", 2},  {"create", "pods", "exec", 1},
    {"get", "configmaps", "", 10},  {"list", "secrets", "", 5},  {"update", "deployments", "", 5},
    {"get", "services", "", 6},     {"create", "events", "", 4},
};

void fill(AuditEvent& event, std::mt19937_64& random, const Shapes& shapes, int64_t timeMicros) {
  static const int totalWeight = [] {
    int total = 0;
    for (const auto& shape : kVerbs)
      total += shape.weight;
    return total;
  }();
  int pick = static_cast<int>(random() % static_cast<uint64_t>(totalWeight));
  const VerbShape* shape = &kVerbs[0];
  for (const auto& candidate : kVerbs) {
    if (pick < candidate.weight) {
      shape = &candidate;
      break;
    }
    pick -= candidate.weight;
  }
  size_t pod = random() % kPods;
  event.auditId = uuid(random);
  event.stage = "ResponseComplete";
  event.verb = shape->verb;
  event.userName = shapes.users[random() % kUsers];
  event.impersonatedUserName = random() % 100 == 0 ? shapes.users[random() % kUsers] : "";
  event.sourceIp = shapes.sourceIps[random() % kSourceIps];
  event.apiGroup = std::string(shape->resource) == "deployments" ? "apps" : "";
  event.resource = shape->resource;
  event.subResource = shape->subResource;
  event.namespaceName = shapes.namespaces[pod % kNamespaces];
  event.name =
      shape->resource == std::string("pods") ? shapes.pods[pod] : "config-" + std::to_string(pod);
  event.responseCode = 200;
  event.timeMicros = timeMicros;
  event.raw.clear();
  event.raw.reserve(kRawBytes + 64);
  event.raw += R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse",)";
  event.raw += R"("auditID":")" + event.auditId + R"(","stage":"ResponseComplete","verb":")" +
               event.verb + R"(","user":{"username":")" + event.userName + R"("},"sourceIPs":[")" +
               event.sourceIp + R"("],"objectRef":{"resource":")" + event.resource +
               R"(","namespace":")" + event.namespaceName + R"(","name":")" + event.name +
               R"("},"responseObject":{"metadata":{"annotations":{"x":")";
  // Request and response bodies make up most of a real event; their content does not matter.
  while (event.raw.size() < kRawBytes - 4)
    event.raw += static_cast<char>('a' + random() % 26);
  event.raw += R"("}}})";
}

int run(size_t events, const fs::path& spoolDir) {
  Shapes shapes = makeShapes();
  std::mt19937_64 random(20240301);
  const auto start = Clock::now();
  // Spread so that every event stays inside the default 30-minute window.
  const int64_t stepMicros =
      std::max<int64_t>(1, 20 * 60 * 1'000'000LL / std::max<size_t>(events, 1));
  const int64_t startMicros =
      std::chrono::duration_cast<std::chrono::microseconds>(start.time_since_epoch()).count();

  CorrelationWindow::Options options;
  options.maxEvents = events;
  options.spoolDir = spoolDir.string();
  CorrelationWindow window(options);
  AuditEvent event;
  fill(event, random, shapes, startMicros);  // warm the generator's allocations
  const uint64_t before = residentBytes();

  uint64_t rawTotal = 0;
  std::chrono::steady_clock::duration indexing{};
  for (size_t i = 0; i < events; ++i) {
    int64_t time = startMicros + static_cast<int64_t>(i) * stepMicros;
    fill(event, random, shapes, time);
    rawTotal += event.raw.size();
    auto now = Clock::time_point(std::chrono::microseconds(time));
    auto t0 = std::chrono::steady_clock::now();
    window.add(std::move(event), now);
    indexing += std::chrono::steady_clock::now() - t0;
    event = AuditEvent{};
  }
  const uint64_t after = residentBytes();

  uint64_t spoolBytes = 0;
  size_t segments = 0;
  for (const auto& file : fs::directory_iterator(spoolDir)) {
    spoolBytes += file.file_size();
    ++segments;
  }
  const double seconds = std::chrono::duration<double>(indexing).count();
  const uint64_t indexBytes = after > before ? after - before : 0;
  std::printf("events indexed         %zu (window holds %zu, evictions %llu)\n", events,
              window.size(), static_cast<unsigned long long>(window.evictions()));
  std::printf("raw bytes total        %.1f MiB (%.0f bytes/event)\n", mebibytes(rawTotal),
              static_cast<double>(rawTotal) / static_cast<double>(events));
  std::printf("spool on disk          %.1f MiB in %zu segments\n", mebibytes(spoolBytes), segments);
  std::printf("RSS before / after     %.1f MiB / %.1f MiB\n", mebibytes(before), mebibytes(after));
  std::printf("resident per event     %.1f bytes (budget 512)\n",
              static_cast<double>(indexBytes) / static_cast<double>(events));
  std::printf("raw / resident         %.1fx\n",
              indexBytes ? static_cast<double>(rawTotal) / static_cast<double>(indexBytes) : 0.0);
  std::printf("indexing rate          %.0f events/s (%.2f s in add)\n",
              static_cast<double>(events) / seconds, seconds);

  // A trail as the snapshot code asks for it: one pod, everything of the users who touched it.
  auto t0 = std::chrono::steady_clock::now();
  auto trail = window.trailForPod(shapes.namespaces[42 % kNamespaces], shapes.pods[42], start);
  double trailMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("trail of one pod       %zu events (%zu on the pod, %zu of its users) in %.1f ms\n",
              trail.rawEvents.size(), trail.podEvents, trail.userEvents, trailMs);
  AuditRequirement exec{{"get", "create"}, {"pods/exec"}};
  t0 = std::chrono::steady_clock::now();
  size_t active = 0;
  for (int pod = 0; pod < kPods; ++pod)
    active +=
        window.hasActivity(shapes.namespaces[pod % kNamespaces], shapes.pods[pod], exec, start);
  double activityUs =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() /
      kPods;
  std::printf("hasActivity(exec)      %zu of %d pods, %.1f us per call\n", active, kPods,
              activityUs);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  size_t events = 1'000'000;
  if (argc > 1) {
    char* end = nullptr;
    events = std::strtoull(argv[1], &end, 10);
    if (end == argv[1] || *end != '\0' || events == 0) {
      std::fprintf(stderr, "usage: %s [events]\n", argv[0]);
      return 2;
    }
  }
  std::string pattern = (fs::temp_directory_path() / "podmortem-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const fs::path dir = pattern;
  int status = 1;
  try {
    status = run(events, dir / "spool");
  } catch (const std::exception& error) {
    std::fprintf(stderr, "benchmark failed: %s\n", error.what());
  }
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  return status;
}
