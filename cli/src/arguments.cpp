#include "arguments.h"

namespace podmortem::cli {

Arguments::Arguments(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) args_.emplace_back(argv[i]);
}

bool Arguments::nextIsFlag() const {
  return !done() && args_[index_].size() > 1 && args_[index_][0] == '-' && args_[index_] != "-";
}

std::optional<std::string> Arguments::nextFlag() {
  if (!nextIsFlag()) return std::nullopt;
  std::string arg = args_[index_++];
  inlineValue_.reset();
  auto eq = arg.find('=');
  if (eq != std::string::npos) {
    inlineValue_ = arg.substr(eq + 1);
    arg = arg.substr(0, eq);
  }
  return arg;
}

std::string Arguments::flagValue(const std::string& flag) {
  if (inlineValue_) {
    std::string value = *inlineValue_;
    inlineValue_.reset();
    return value;
  }
  if (done()) throw UsageError{"flag " + flag + " needs a value"};
  return args_[index_++];
}

std::string Arguments::nextPositional() { return done() ? std::string() : args_[index_++]; }

}  // namespace podmortem::cli
