#pragma once

#include <optional>
#include <string>
#include <vector>

namespace podmortem::cli {

// A command-line usage error; the command prints it with the usage text and exits 2.
struct UsageError {
  std::string message;
};

// Walks "--flag value", "--flag=value" and positional arguments.
class Arguments {
 public:
  Arguments(int argc, char** argv, int first);

  bool done() const { return index_ >= args_.size(); }
  // The next argument if it is a flag ("--name" or "--name=value"): returns the name.
  std::optional<std::string> nextFlag();
  // The value of the flag just returned by nextFlag(); throws UsageError when missing.
  std::string flagValue(const std::string& flag);
  // The next positional argument.
  std::string nextPositional();
  bool nextIsFlag() const;

 private:
  std::vector<std::string> args_;
  size_t index_ = 0;
  std::optional<std::string> inlineValue_;
};

}  // namespace podmortem::cli
