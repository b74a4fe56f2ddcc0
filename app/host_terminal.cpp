#include "host_terminal.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace vs::app {

HostTerminal::HostTerminal(int fd) : fd_(fd), interactive_(isatty(fd) != 0) {
  if (!interactive_) return;
  if (tcgetattr(fd_, &saved_termios_) == 0) {
    have_termios_ = true;
    termios raw = saved_termios_;
    // The settings QEMU's stdio character device applies (ISIG kept).
    raw.c_iflag &= ~tcflag_t(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    raw.c_oflag |= OPOST;
    raw.c_lflag &= ~tcflag_t(ECHO | ECHONL | ICANON | IEXTEN);
    raw.c_cflag &= ~tcflag_t(CSIZE | PARENB);
    raw.c_cflag |= CS8;
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    tcsetattr(fd_, TCSANOW, &raw);
  }
  // Non-blocking reads between run slices; the flag lives on the open file
  // description the shell shares, so it is undone on the way out too.
  if ((saved_flags_ = fcntl(fd_, F_GETFL)) >= 0) fcntl(fd_, F_SETFL, saved_flags_ | O_NONBLOCK);
}

HostTerminal::~HostTerminal() {
  if (saved_flags_ >= 0) fcntl(fd_, F_SETFL, saved_flags_);
  if (have_termios_) tcsetattr(fd_, TCSANOW, &saved_termios_);
}

bool HostTerminal::read_available(std::string& out) {
  char buf[256];
  for (;;) {
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, size_t(n));
      continue;
    }
    if (n == 0) return false;  // end of input (the terminal hung up)
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  }
}

void HostTerminal::wait_for_input(int ms) {
  pollfd p{fd_, POLLIN, 0};
  ::poll(&p, 1, ms);  // EINTR (Ctrl-C) simply ends the wait
}

}  // namespace vs::app
