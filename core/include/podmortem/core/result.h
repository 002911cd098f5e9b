#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace podmortem::core {

// What went wrong, as the boundary that reports it needs to know: an HTTP status, a policy
// condition, a CLI exit code, a snapshot's reason, a metric label. The message says it to a
// person; code-driven decisions look at the code, never at the text.
enum class ErrorCode {
  kInvalidArgument,   // the input is wrong (400, Ready=False, exit 2)
  kUnauthenticated,   // no or wrong credentials (401)
  kPermissionDenied,  // known caller, or a switched-off feature, that may not (403); EACCES
  kNotFound,
  kAlreadyExists,
  kResourceExhausted,  // a queue or limit is full (429)
  kNoSpace,            // the file system is full (ENOSPC, EDQUOT)
  kReadOnly,           // the file system is read-only (EROFS)
  kUnavailable,        // a dependency cannot be reached (503)
  kDeadlineExceeded,
  kIo,        // any other file-system failure
  kInternal,  // a state that should not happen
};

// "invalid argument", "no space", ...: short, for reasons shown to clients and metric labels.
std::string_view toString(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;  // one line; may name server-side paths, so keep it out of client answers
};

// The value, or why there is none: std::expected's shape, which C++20 lacks.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

// Success, or why not.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

inline Error makeError(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

// The ErrorCode for an errno from a file-system call.
ErrorCode errorCodeForErrno(int err);

}  // namespace podmortem::core
