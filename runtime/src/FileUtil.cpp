// Whole-file reads and atomic writes with POSIX calls, so that errors are checked at every step.
#include "kiln/runtime/FileUtil.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kiln {

static std::string sysError(const std::string &what, const std::string &path) {
  return path + ": error: " + what + ": " + std::strerror(errno);
}

Expected<std::string> readFile(const std::string &path, size_t maxBytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return Status::error(sysError("cannot open file", path));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::error(path + ": error: not a regular file");
  }
  if (size_t(st.st_size) > maxBytes) {
    ::close(fd);
    return Status::error(path + ": error: file is too large (" + std::to_string(st.st_size) +
                         " bytes)");
  }
  std::string out(size_t(st.st_size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      ::close(fd);
      return Status::error(sysError("cannot read file", path));
    }
    done += size_t(n);
  }
  ::close(fd);
  return out;
}

Status writeFileAtomic(const std::string &path, std::string_view contents) {
  std::string tmp = path + ".tmp-XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0)
    return Status::error(sysError("cannot create temporary file", path));
  auto fail = [&](const std::string &what) {
    std::string msg = sysError(what, path);
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status::error(msg);
  };
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return fail("cannot write file");
    done += size_t(n);
  }
  if (::fchmod(fd, 0644) != 0)
    return fail("cannot set file mode");
  if (::fsync(fd) != 0)
    return fail("cannot sync file");
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Status::error(sysError("cannot close file", path));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string msg = sysError("cannot rename temporary file", path);
    ::unlink(tmp.c_str());
    return Status::error(msg);
  }
  // The rename is durable only once the directory entry is on disk too.
  std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/') + 1);
  int dirFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd >= 0) {
    ::fsync(dirFd);
    ::close(dirFd);
  }
  return Status::ok();
}

} // namespace kiln
