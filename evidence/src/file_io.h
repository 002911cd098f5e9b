#pragma once

// Private to the controller library: the few POSIX file operations the evidence store and the
// verifier need, with durability (fsync) and without following symlinks. Each returns an empty
// string on success and otherwise "<action> <path>: <errno text>", because the caller turns it
// into a snapshot's reason rather than throwing.

#include <cstdint>
#include <string>
#include <string_view>

namespace podmortem::evidence::fileio {

std::string errnoText(int err);

// Creates `path` (which must not exist) mode 0600, writes all bytes, fsyncs and closes it.
// `written` grows by the bytes that reached the file, also when the call fails part-way.
[[nodiscard]] std::string writeNewFile(const std::string& path, std::string_view bytes,
                                       uint64_t& written);

// mkdir mode 0700. An existing real folder (not a symlink) is accepted when `mayExist`;
// `created` says whether this call made it, so that only new entries' parents are fsync'd.
[[nodiscard]] std::string makePrivateDir(const std::string& path, bool mayExist, bool& created);

// fsync of a folder, so that the names created in it survive a crash.
[[nodiscard]] std::string syncDir(const std::string& path);

// rename(2) that fails with EEXIST instead of replacing an existing (empty) folder.
[[nodiscard]] std::string renameNoReplace(const std::string& from, const std::string& to);

// Whole file; refuses symlinks.
[[nodiscard]] std::string readFile(const std::string& path, std::string& contents);

// SHA-256 and size of a file, read in pieces so that large artifacts (checkpoints) are fine.
[[nodiscard]] std::string hashFile(const std::string& path, std::string& sha256Hex, uint64_t& size);

}  // namespace podmortem::evidence::fileio
