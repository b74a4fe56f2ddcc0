// The host terminal as the guest's console (`virtscope run` with stdin on a
// terminal). While the machine runs, the terminal is put in the raw mode
// QEMU's `-serial stdio` uses: every key goes to the guest as typed (no line
// editing, no local echo: the guest echoes), Enter arrives as '\r' as from a
// serial terminal, output keeps its "\n" -> "\r\n" translation, and Ctrl-C
// still raises SIGINT so it stops the run. Everything is restored on exit.
#pragma once

#include <termios.h>

#include <string>

namespace vs::app {

class HostTerminal {
 public:
  // Does nothing unless `fd` is a terminal.
  explicit HostTerminal(int fd);
  ~HostTerminal();
  HostTerminal(const HostTerminal&) = delete;
  HostTerminal& operator=(const HostTerminal&) = delete;

  bool interactive() const { return interactive_; }
  // Appends whatever has been typed (never blocks); false at end of input.
  bool read_available(std::string& out);
  // Sleeps up to `ms` milliseconds, waking as soon as a key is typed or a
  // signal arrives. The run loop calls it while the guest is idle so that an
  // idle guest does not spin the host and its clock keeps pace with the user.
  void wait_for_input(int ms);

 private:
  int fd_;
  bool interactive_ = false;
  bool have_termios_ = false;
  termios saved_termios_{};
  int saved_flags_ = -1;
};

}  // namespace vs::app
