// Status and Expected<T>: how every Kiln API reports a user-facing error without throwing.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace kiln {

/// What Status::ok() returns; converts to an ok Status. A type of its own because C++ accepts
/// `someStatus.ok()` as a call of the static factory: with a plain Status that expression would
/// always be true, and a test asserting it would check nothing. OkStatus has no conversion to
/// bool, so the mistake does not compile (use `isOk()` or the bool conversion instead).
struct OkStatus {};

/// The result of an operation that can fail on user input. An error carries one complete,
/// already formatted message (for located errors: "file:line:col: error: ...").
class [[nodiscard]] Status {
public:
  Status() = default;
  Status(OkStatus) {}
  static OkStatus ok() { return {}; }
  static Status error(std::string message) { return Status(std::move(message), false); }

  bool isOk() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const std::string &message() const { return message_; }

private:
  Status(std::string message, bool ok) : ok_(ok), message_(std::move(message)) {}
  bool ok_ = true;
  std::string message_;
};

/// A value or an error Status.
template <typename T> class [[nodiscard]] Expected {
public:
  Expected(T value) : v_(std::move(value)) {}
  Expected(Status status) : v_(std::move(status)) {
    assert(!std::get<Status>(v_).isOk() && "Expected built from an ok Status");
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }
  const std::string &message() const { return std::get<Status>(v_).message(); }

  T &operator*() & { return std::get<T>(v_); }
  const T &operator*() const & { return std::get<T>(v_); }
  T *operator->() { return &std::get<T>(v_); }
  const T *operator->() const { return &std::get<T>(v_); }
  T take() { return std::move(std::get<T>(v_)); }

private:
  std::variant<T, Status> v_;
};

} // namespace kiln

#define KILN_CONCAT_IMPL(a, b) a##b
#define KILN_CONCAT(a, b) KILN_CONCAT_IMPL(a, b)

/// Returns the Status from the enclosing function if `expr` (a Status) is an error.
#define KILN_TRY(expr)                                                                             \
  do {                                                                                             \
    ::kiln::Status kiln_try_status_ = (expr);                                                      \
    if (!kiln_try_status_.isOk())                                                                  \
      return kiln_try_status_;                                                                     \
  } while (0)

/// `KILN_ASSIGN(auto x, expr)`: evaluates an Expected, returns its error or binds its value.
#define KILN_ASSIGN(decl, expr) KILN_ASSIGN_IMPL(KILN_CONCAT(kiln_expected_, __LINE__), decl, expr)
#define KILN_ASSIGN_IMPL(tmp, decl, expr)                                                          \
  auto tmp = (expr);                                                                               \
  if (!tmp.ok())                                                                                   \
    return tmp.status();                                                                           \
  decl = tmp.take()
