// Result<T>: what an io call returns, a value or the error of the OS call
// that failed, as a std::error_code. Callers compare it with std::errc
// conditions (portable), never with errno values, so that layers above io/
// stay free of OS headers.
#pragma once

#include <system_error>
#include <utility>

namespace rtether::io {

// EAGAIN and EWOULDBLOCK (equal on Linux, not everywhere).
inline bool would_block(const std::error_code& error) {
  return error == std::errc::resource_unavailable_try_again ||
         error == std::errc::operation_would_block;
}

template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}
  Result(std::error_code error) : error_(error) {}

  bool ok() const { return !error_; }
  explicit operator bool() const { return ok(); }
  // Checked first on every transfer: the common success costs one test.
  bool would_block() const { return error_ && io::would_block(error_); }
  const std::error_code& error() const { return error_; }

  T& operator*() { return value_; }
  const T& operator*() const { return value_; }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }

 private:
  T value_{};
  std::error_code error_;
};

}  // namespace rtether::io
