#include "podmortem/evidence/bundle_archive.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>
#include <vector>

#include "podmortem/core/file_io.h"

namespace podmortem::evidence {

namespace fs = std::filesystem;
namespace fileio = core::fileio;

namespace {

constexpr size_t kBlock = 512;

core::Error invalid(const std::string& message) {
  return core::makeError(core::ErrorCode::kInvalidArgument, "evidence archive: " + message);
}

// An octal number into a field of `width` bytes: digits, then NUL.
void octal(char* field, size_t width, uint64_t value) {
  std::string digits(width - 1, '0');
  for (size_t i = width - 1; i-- > 0 && value > 0; value >>= 3) digits[i] = static_cast<char>('0' + (value & 7));
  std::memcpy(field, digits.data(), width - 1);
  field[width - 1] = '\0';
}

uint64_t readOctal(const char* field, size_t width) {
  uint64_t value = 0;
  size_t i = 0;
  while (i < width && field[i] == ' ') ++i;  // some writers pad on the left
  for (; i < width && field[i] != '\0' && field[i] != ' '; ++i) {
    if (field[i] < '0' || field[i] > '7') return UINT64_MAX;
    value = value * 8 + static_cast<uint64_t>(field[i] - '0');
  }
  return value;
}

unsigned checksum(const char* header) {
  unsigned sum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    bool inField = i >= 148 && i < 156;
    sum += inField ? ' ' : static_cast<unsigned char>(header[i]);
  }
  return sum;
}

// name (100) and prefix (155), split at a '/' as ustar allows.
bool splitName(const std::string& path, std::string& prefix, std::string& name) {
  if (path.size() <= 100) {
    name = path;
    return true;
  }
  for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    if (slash <= 155 && path.size() - slash - 1 <= 100) {
      prefix = path.substr(0, slash);
      name = path.substr(slash + 1);
      return true;
    }
  }
  return false;
}

core::Status appendMember(std::string& out, const std::string& path, char type, uint64_t size, int64_t mtime,
                          std::string_view bytes) {
  if (size > 077777777777ull) return invalid(path + ": 8 GiB or more, over what a ustar header holds");
  char header[kBlock] = {};
  std::string prefix, name;
  if (!splitName(path, prefix, name)) return invalid("path too long for ustar: " + path);
  std::memcpy(header, name.data(), name.size());
  octal(header + 100, 8, type == '5' ? 0700 : 0600);
  octal(header + 108, 8, 0);
  octal(header + 116, 8, 0);
  octal(header + 124, 12, size);
  octal(header + 136, 12, static_cast<uint64_t>(std::max<int64_t>(mtime, 0)));
  header[156] = type;
  std::memcpy(header + 257, "ustar", 6);
  std::memcpy(header + 263, "00", 2);
  std::memcpy(header + 345, prefix.data(), prefix.size());
  char sum[8];
  std::snprintf(sum, sizeof sum, "%06o", checksum(header));
  std::memcpy(header + 148, sum, 7);
  header[155] = ' ';
  out.append(header, kBlock);
  out.append(bytes);
  out.append((kBlock - bytes.size() % kBlock) % kBlock, '\0');
  return {};
}

// Relative, and every part a real name: no "", ".", "..".
bool safeRelative(const std::string& path) {
  if (path.empty() || path.front() == '/') return false;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string::npos) return true;
    start = slash + 1;
  }
}

}  // namespace

core::Result<std::string> archiveBundle(const std::string& bundleDir, const std::string& root) {
  std::string out;
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(bundleDir, ec))) {
    return core::makeError(core::ErrorCode::kNotFound, bundleDir + " is not a folder");
  }
  std::vector<fs::path> entries;
  for (fs::recursive_directory_iterator it(bundleDir, ec), end; !ec && it != end; it.increment(ec)) {
    entries.push_back(it->path());
  }
  if (ec) return core::makeError(core::ErrorCode::kIo, "cannot list " + bundleDir + ": " + ec.message());
  std::sort(entries.begin(), entries.end());
  struct stat info {};
  if (::lstat(bundleDir.c_str(), &info) != 0) return core::makeError(core::ErrorCode::kIo, "cannot stat " + bundleDir);
  if (auto added = appendMember(out, root + "/", '5', 0, info.st_mtime, {}); !added.ok()) return added.error();
  for (const fs::path& entry : entries) {
    std::string name = root + "/" + entry.lexically_relative(bundleDir).generic_string();
    if (::lstat(entry.c_str(), &info) != 0) return core::makeError(core::ErrorCode::kIo, "cannot stat " + entry.string());
    core::Status added;
    if (S_ISDIR(info.st_mode)) {
      added = appendMember(out, name + "/", '5', 0, info.st_mtime, {});
    } else if (S_ISREG(info.st_mode)) {
      std::string bytes;
      if (auto read = fileio::readFile(entry.string(), bytes); !read.ok()) return read.error();
      added = appendMember(out, name, '0', bytes.size(), info.st_mtime, bytes);
    } else {
      return core::makeError(core::ErrorCode::kInvalidArgument,
                             entry.string() + " is not a regular file or folder: it is not served");
    }
    if (!added.ok()) return added.error();
  }
  out.append(2 * kBlock, '\0');
  return out;
}

core::Result<std::string> extractBundle(std::string_view archive, const std::string& destination,
                                        const std::string& expectedRoot) {
  struct Member {
    std::string path;
    bool folder = false;
    std::string_view bytes;
  };
  std::vector<Member> members;
  std::string root = expectedRoot;
  std::set<std::string> files, folders;
  size_t at = 0;
  while (true) {
    if (at + kBlock > archive.size()) return invalid("truncated: no end-of-archive blocks");
    const char* header = archive.data() + at;
    if (std::all_of(header, header + kBlock, [](char c) { return c == '\0'; })) break;
    if (readOctal(header + 148, 8) != checksum(header)) return invalid("header checksum mismatch at byte " + std::to_string(at));
    std::string name(header, strnlen(header, 100));
    std::string prefix(header + 345, strnlen(header + 345, 155));
    std::string path = prefix.empty() ? name : prefix + "/" + name;
    uint64_t size = readOctal(header + 124, 12);
    char type = header[156];
    at += kBlock;
    if (size == UINT64_MAX || size > archive.size() - at) return invalid(path + ": size beyond the archive");
    Member member;
    member.folder = type == '5';
    if (type != '0' && type != '\0' && type != '5') return invalid(path + ": not a regular file or folder (type " + std::string(1, type) + ")");
    if (member.folder && !path.empty() && path.back() == '/') path.pop_back();
    if (!safeRelative(path)) return invalid("unsafe member path \"" + path + "\"");
    std::string first = path.substr(0, path.find('/'));
    if (root.empty()) root = first;
    if (first != root) return invalid("member \"" + path + "\" is outside the root folder " + root);
    // Each path once, and never both a file and a folder (a file "a" and a member "a/b").
    if (files.count(path) != 0 || (member.folder ? false : folders.count(path) != 0) ||
        (member.folder && files.count(path) != 0)) {
      return invalid("member \"" + path + "\" appears twice, or as a file and a folder");
    }
    for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
      if (files.count(path.substr(0, slash)) != 0) return invalid("member \"" + path + "\" is below a file");
      folders.insert(path.substr(0, slash));
    }
    (member.folder ? folders : files).insert(path);
    member.path = path;
    member.bytes = archive.substr(at, size);
    members.push_back(member);
    at += (size + kBlock - 1) / kBlock * kBlock;
  }
  if (root.empty()) return invalid("empty archive");
  std::error_code ec;
  fs::create_directories(destination, ec);
  const fs::path top = fs::path(destination) / root;
  if (fs::exists(fs::symlink_status(top, ec))) return core::makeError(core::ErrorCode::kAlreadyExists, top.string() + " exists already");
  for (const Member& member : members) {
    fs::path target = fs::path(destination) / member.path;
    if (member.folder) {
      fs::create_directories(target, ec);
      if (ec) return core::makeError(core::ErrorCode::kIo, "cannot create " + target.string() + ": " + ec.message());
      continue;
    }
    fs::create_directories(target.parent_path(), ec);
    uint64_t written = 0;
    if (auto made = fileio::writeNewFile(target.string(), member.bytes, written); !made.ok()) return made.error();
  }
  return top.string();
}

}  // namespace podmortem::evidence
