#include "podmortem/webhooks/metrics_registry.h"

#include <gtest/gtest.h>

#include <atomic>

namespace podmortem::webhooks {
namespace {

// The podmortem_ lines only: process_* values (RSS) move between any two reads.
std::string ownLines(const std::string& text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (line.rfind("podmortem_", 0) == 0) out += line + "\n";
    start = end + 1;
  }
  return out;
}

TEST(MetricsRegistry, ObservedFamiliesReadStateAtEachScrapeAndChangeNothing) {
  MetricsRegistry metrics;
  std::atomic<int> reads{0};
  double evictions = 3;
  metrics.observe("podmortem_test_evictions_total", "Evictions seen.",
                  prometheus::MetricType::Counter, [&]() -> std::vector<ObservedSample> {
                    ++reads;
                    return {{{{"kind", "age"}}, evictions}};
                  });
  std::string first = ownLines(metrics.render());
  std::string second = ownLines(metrics.render());
  EXPECT_EQ(first, second) << "a scrape must not change what the next one sees";
  EXPECT_EQ(reads.load(), 2);
  EXPECT_NE(first.find("podmortem_build_info"), std::string::npos);
  EXPECT_NE(metrics.render().find("# TYPE podmortem_test_evictions_total counter"),
            std::string::npos);
  EXPECT_NE(first.find("podmortem_test_evictions_total{kind=\"age\"} 3"), std::string::npos)
      << first;
  evictions = 5;
  EXPECT_NE(metrics.render().find("podmortem_test_evictions_total{kind=\"age\"} 5"),
            std::string::npos);
}

TEST(MetricsRegistry, RendersBuildInfoAndProcessMetrics) {
  MetricsRegistry metrics;
  std::string text = metrics.render();
  EXPECT_NE(text.find("podmortem_build_info{version="), std::string::npos);
  EXPECT_NE(text.find("process_resident_memory_bytes"), std::string::npos);
  EXPECT_NE(text.find("process_open_fds"), std::string::npos);
}

}  // namespace
}  // namespace podmortem::webhooks
