#pragma once

#include "arguments.h"

namespace podmortem::cli {

// Each command parses its own flags and returns the process exit code.
int serveCommand(Arguments& args);
int verifyCommand(Arguments& args);
int replayCommand(Arguments& args);
int reportCommand(Arguments& args);
int versionCommand(Arguments& args);

// Prints "podmortem: <message>" and the command's usage to stderr; returns 2.
int usageError(const char* usage, const std::string& message);

}  // namespace podmortem::cli
