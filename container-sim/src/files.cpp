#include "files.h"

#include "linux_abi.h"

namespace vs::container_sim {

OpenFile::~OpenFile() {
  if (!pipe) return;
  if (kind == Kind::PipeRead) --pipe->readers;
  if (kind == Kind::PipeWrite) --pipe->writers;
}

void make_pipe(FileRef& read_end, FileRef& write_end) {
  auto p = std::make_shared<Pipe>();
  p->readers = p->writers = 1;
  read_end = std::make_shared<OpenFile>(OpenFile::Kind::PipeRead);
  write_end = std::make_shared<OpenFile>(OpenFile::Kind::PipeWrite);
  read_end->pipe = write_end->pipe = p;
}

int FdTable::add(FileRef f) {
  for (int fd = 0; fd < kMaxFds; ++fd) {
    if (!fds[size_t(fd)]) {
      fds[size_t(fd)] = std::move(f);
      return fd;
    }
  }
  return -linux_abi::kEMFILE;
}

}  // namespace vs::container_sim
