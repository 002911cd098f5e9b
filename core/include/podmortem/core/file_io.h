#pragma once

// The few POSIX file operations the evidence store, the verifier and the findings outbox need,
// with durability (fsync) and without following symlinks. Each returns success or an
// error whose code says what the file system said (no space, read-only, ...) and whose message is
// "<action> <path>: <errno text>", because the caller turns it into a snapshot's reason rather
// than throwing.

#include <cstdint>
#include <string>
#include <string_view>

#include "podmortem/core/result.h"

namespace podmortem::core::fileio {

std::string errnoText(int err);

// Creates `path` (which must not exist) mode 0600, writes all bytes, fsyncs and closes it.
// `written` grows by the bytes that reached the file, also when the call fails part-way.
core::Status writeNewFile(const std::string& path, std::string_view bytes, uint64_t& written);

// Writes `bytes` to a new file beside `path` and renames it over `path`, then fsyncs the folder:
// after a crash the file holds either its old contents or all of the new ones.
core::Status replaceFile(const std::string& path, std::string_view bytes);

// mkdir mode 0700. An existing real folder (not a symlink) is accepted when `mayExist`;
// `created` says whether this call made it, so that only new entries' parents are fsync'd.
core::Status makePrivateDir(const std::string& path, bool mayExist, bool& created);

// fsync of a folder, so that the names created in it survive a crash.
core::Status syncDir(const std::string& path);

// rename(2) that fails with EEXIST instead of replacing an existing (empty) folder.
core::Status renameNoReplace(const std::string& from, const std::string& to);

// Whole file; refuses symlinks.
core::Status readFile(const std::string& path, std::string& contents);

// SHA-256 and size of a file, read in pieces so that large artifacts (checkpoints) are fine.
core::Status hashFile(const std::string& path, std::string& sha256Hex, uint64_t& size);

}  // namespace podmortem::core::fileio
