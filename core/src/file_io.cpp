#include "podmortem/core/file_io.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "podmortem/core/sha256.h"

namespace podmortem::core::fileio {

namespace {
constexpr std::size_t kReadChunk = 64 * 1024;

core::Error failure(std::string_view action, const std::string& path, int err) {
  return core::makeError(core::errorCodeForErrno(err),
                         std::string(action) + " " + path + ": " + errnoText(err));
}

// Closes on every path out of a function; close errors are checked explicitly where they matter.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};
}  // namespace

std::string errnoText(int err) {
  return std::error_code(err, std::generic_category()).message();
}

core::Status writeNewFile(const std::string& path, std::string_view bytes, uint64_t& written) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0)
    return failure("create", path, errno);
  // The umask can only remove bits; set the mode exactly so evidence is never group-readable.
  if (::fchmod(fd.get(), 0600) != 0)
    return failure("chmod", path, errno);
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return failure("write", path, errno);
    }
    done += static_cast<std::size_t>(n);
    written += static_cast<uint64_t>(n);
  }
  if (::fsync(fd.get()) != 0)
    return failure("fsync", path, errno);
  // A delayed write error (NFS, some FUSE file systems) may only show up at close.
  if (::close(fd.release()) != 0)
    return failure("close", path, errno);
  return {};
}

core::Status replaceFile(const std::string& path, std::string_view bytes) {
  std::string temporary = path + ".partial";
  ::unlink(temporary.c_str());  // left by a crash mid-write
  uint64_t written = 0;
  if (auto status = writeNewFile(temporary, bytes, written); !status.ok()) {
    ::unlink(temporary.c_str());
    return status;
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temporary.c_str());
    return failure("rename to", path, err);
  }
  auto slash = path.rfind('/');
  return syncDir(slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash));
}

core::Status makePrivateDir(const std::string& path, bool mayExist, bool& created) {
  created = false;
  if (::mkdir(path.c_str(), 0700) == 0) {
    created = true;
    if (::chmod(path.c_str(), 0700) != 0)
      return failure("chmod", path, errno);
    return {};
  }
  int err = errno;
  if (err != EEXIST || !mayExist)
    return failure("mkdir", path, err);
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0)
    return failure("stat", path, errno);
  if (!S_ISDIR(info.st_mode))
    return failure("mkdir", path, ENOTDIR);
  return {};
}

core::Status syncDir(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0)
    return failure("open folder", path, errno);
  if (::fsync(fd.get()) != 0)
    return failure("fsync folder", path, errno);
  return {};
}

core::Status renameNoReplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0)
    return {};
  int err = errno;
  if (err != EINVAL && err != ENOSYS)
    return failure("rename to", to, err);
  // File systems without RENAME_NOREPLACE: check first. The window is harmless because the
  // temporary name is created exclusively, so two writers of one id never get this far together.
  struct stat info {};
  if (::lstat(to.c_str(), &info) == 0)
    return failure("rename to", to, EEXIST);
  if (::rename(from.c_str(), to.c_str()) != 0)
    return failure("rename to", to, errno);
  return {};
}

namespace {

// Reads a file in pieces without following a symlink, handing each piece to `consume`.
template <class Consume>
core::Status readChunks(const std::string& path, Consume consume) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0)
    return failure("open", path, errno);
  char buffer[kReadChunk];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return failure("read", path, errno);
    }
    if (n == 0)
      return {};
    consume(std::string_view(buffer, static_cast<std::size_t>(n)));
  }
}

}  // namespace

core::Status readFile(const std::string& path, std::string& contents) {
  contents.clear();
  return readChunks(path, [&contents](std::string_view piece) { contents.append(piece); });
}

core::Status hashFile(const std::string& path, std::string& sha256Hex, uint64_t& size) {
  size = 0;
  core::Sha256 hash;
  auto read = readChunks(path, [&](std::string_view piece) {
    hash.update(piece);
    size += piece.size();
  });
  if (read.ok()) sha256Hex = hash.finishHex();
  return read;
}

}  // namespace podmortem::core::fileio
