#include "podmortem/core/result.h"

#include <cerrno>

namespace podmortem::core {

std::string_view toString(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kUnauthenticated:
      return "unauthenticated";
    case ErrorCode::kPermissionDenied:
      return "permission denied";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kAlreadyExists:
      return "already exists";
    case ErrorCode::kResourceExhausted:
      return "resource exhausted";
    case ErrorCode::kNoSpace:
      return "no space";
    case ErrorCode::kReadOnly:
      return "read-only file system";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kDeadlineExceeded:
      return "deadline exceeded";
    case ErrorCode::kIo:
      return "i/o error";
    case ErrorCode::kInternal:
      return "internal error";
  }
  return "internal error";
}

ErrorCode errorCodeForErrno(int err) {
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return ErrorCode::kNoSpace;
    case EROFS:
      return ErrorCode::kReadOnly;
    case EACCES:
    case EPERM:
      return ErrorCode::kPermissionDenied;
    case ENOENT:
      return ErrorCode::kNotFound;
    case EEXIST:
    case ENOTEMPTY:
      return ErrorCode::kAlreadyExists;
    default:
      return ErrorCode::kIo;
  }
}

}  // namespace podmortem::core
