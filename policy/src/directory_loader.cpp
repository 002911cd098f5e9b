#include "podmortem/policy/directory_loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <vector>

#include "podmortem/policy/parser.h"

namespace podmortem::policy {

namespace {

namespace fs = std::filesystem;

// Far above any real policy (the API server caps an object at 1.5 MiB); a bigger file is a
// mistake, and reading it whole would only cost memory.
constexpr uintmax_t kMaxPolicyFileBytes = 4 * 1024 * 1024;

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

LoadResult problemResult(const std::string& source, std::string reason) {
  LoadResult result;
  result.problems.push_back(PolicyProblem{source, "", "", std::move(reason), 0});
  result.rejected = 1;
  return result;
}

LoadResult loadFile(const fs::path& path) {
  const std::string source = path.string();
  std::error_code error;
  uintmax_t size = fs::file_size(path, error);
  if (error)
    return problemResult(source, "cannot read file: " + error.message());
  if (size > kMaxPolicyFileBytes) {
    return problemResult(source, "file is larger than 4 MiB; a policy file is never that big");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return problemResult(source, "cannot open file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad())
    return problemResult(source, "cannot read file");
  return parsePolicyDocuments(text.str(), source);
}

}  // namespace

bool isPolicyFileName(std::string_view fileName) {
  if (fileName.empty() || fileName.front() == '.')
    return false;
  return endsWith(fileName, ".yaml") || endsWith(fileName, ".yml") || endsWith(fileName, ".json");
}

LoadResult loadPolicyDirectory(const std::string& dir) {
  std::error_code error;
  std::vector<fs::path> files;
  fs::directory_iterator it(dir, error);
  if (error)
    return problemResult(dir, "cannot read policy folder: " + error.message());
  for (; it != fs::directory_iterator(); it.increment(error)) {
    const fs::directory_entry& entry = *it;
    if (!isPolicyFileName(entry.path().filename().string()))
      continue;
    // is_regular_file follows symlinks, which is how ConfigMap mounts present their files.
    std::error_code typeError;
    if (!entry.is_regular_file(typeError))
      continue;
    files.push_back(entry.path());
  }
  if (error)
    return problemResult(dir, "cannot read policy folder: " + error.message());
  std::sort(files.begin(), files.end());

  LoadResult result;
  for (const auto& file : files)
    appendLoadResult(result, loadFile(file));
  return result;
}

}  // namespace podmortem::policy
