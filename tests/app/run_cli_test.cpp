// `virtscope run` as a user meets it: the process's exit status, what it
// prints, piped input, and a real terminal (a pseudo-terminal here) typing
// into the guest's serial console.
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "subprocess.h"

#include <chrono>
#include <string>
#include <vector>

namespace {

using Result = vs::test::ProcessResult;

// Runs virtscope with `args`, `input` on a pipe to its stdin.
Result run_virtscope(const std::vector<std::string>& args, const std::string& input) {
  return vs::test::run_process(VS_VIRTSCOPE, args, input);
}

std::vector<std::string> echo_args() {
  return {"run", "-kernel", VS_SERIAL_ECHO, "-device", "isa-debug-exit", "-display", "none"};
}

TEST(RunCli, PipedInputReachesCom1AndTheExitStatusFollowsDebugExit) {
  const Result r = run_virtscope(echo_args(), "hello\rq");
  EXPECT_EQ(r.status, 11) << r.err;  // (5 << 1) | 1
  EXPECT_EQ(r.out, ">HELLO\n");
  EXPECT_NE(r.err.find("stopped: guest exit (isa-debug-exit) (status 11)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\ninstructions: "), std::string::npos) << r.err;
}

TEST(RunCli, SameInputGivesTheSameInstructionCount) {
  const Result a = run_virtscope(echo_args(), "abc\rq");
  const Result b = run_virtscope(echo_args(), "abc\rq");
  ASSERT_EQ(a.status, 11);
  const auto count = [](const std::string& err) {
    const size_t at = err.find("\ninstructions: ");
    return at == std::string::npos ? std::string() : err.substr(at, err.find('\n', at + 1) - at);
  };
  EXPECT_FALSE(count(a.err).empty());
  EXPECT_EQ(count(a.err), count(b.err));
}

TEST(RunCli, MissingKernelIsAOneLineErrorAndStatus1) {
  const Result r = run_virtscope({"run", "-kernel", "/nonexistent/kernel.elf"}, "");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.rfind("virtscope run: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(RunCli, UnknownOptionIsAUsageErrorWithStatus2) {
  const Result r = run_virtscope({"run", "--no-such-option"}, "");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("usage: virtscope run"), std::string::npos) << r.err;
}

// The guest's console on a terminal: a pseudo-terminal whose other end this
// test holds, as a terminal emulator would.
class Terminal {
 public:
  Terminal() {
    pid_ = forkpty(&master_, nullptr, nullptr, nullptr);
    if (pid_ == 0) {
      std::vector<std::string> args = echo_args();
      std::vector<char*> argv{const_cast<char*>(VS_VIRTSCOPE)};
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(VS_VIRTSCOPE, argv.data());
      _exit(127);
    }
  }
  ~Terminal() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) close(master_);
  }
  bool started() const { return pid_ > 0 && master_ >= 0; }
  void type(const std::string& keys) { (void)!write(master_, keys.data(), keys.size()); }
  // Reads until `text` has appeared in everything read so far (or 20 s pass).
  bool wait_for(const std::string& text) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (seen_.find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() > give_up) return false;
      pollfd p{master_, POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      char buf[1024];
      const ssize_t n = read(master_, buf, sizeof buf);
      if (n <= 0) return seen_.find(text) != std::string::npos;  // the program has gone
      seen_.append(buf, size_t(n));
    }
    return true;
  }
  termios settings() const {
    termios t{};
    tcgetattr(master_, &t);
    return t;
  }
  int wait_exit() {
    int ws = 0;
    waitpid(pid_, &ws, 0);
    reaped_ = true;
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
  }
  const std::string& seen() const { return seen_; }

 private:
  int master_ = -1;
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::string seen_;
};

TEST(RunCli, KeysTypedAtATerminalReachTheGuestAsTypedWithoutLocalEcho) {
  Terminal t;
  ASSERT_TRUE(t.started());
  ASSERT_TRUE(t.wait_for(">")) << t.seen();
  // Raw mode while the guest runs: no line editing, no echo, Enter is '\r'.
  const termios raw = t.settings();
  EXPECT_FALSE(raw.c_lflag & ICANON);
  EXPECT_FALSE(raw.c_lflag & ECHO);
  EXPECT_FALSE(raw.c_iflag & ICRNL);
  EXPECT_TRUE(raw.c_lflag & ISIG);
  // Keys arrive one by one, before any Enter.
  t.type("h");
  ASSERT_TRUE(t.wait_for(">H")) << t.seen();
  t.type("i\r");
  ASSERT_TRUE(t.wait_for(">HI\r\n")) << t.seen();  // the guest's '\n', translated by the terminal
  EXPECT_EQ(t.seen().find("hi"), std::string::npos) << "the terminal echoed what was typed";
  t.type("q");
  ASSERT_TRUE(t.wait_for("instructions: ")) << t.seen();
  EXPECT_EQ(t.wait_exit(), 11);
  // The terminal is as it was before the run.
  const termios after = t.settings();
  EXPECT_TRUE(after.c_lflag & ICANON);
  EXPECT_TRUE(after.c_lflag & ECHO);
  EXPECT_TRUE(after.c_iflag & ICRNL);
}

TEST(RunCli, CtrlCAtTheTerminalStopsTheRunWithItsSummary) {
  Terminal t;
  ASSERT_TRUE(t.started());
  ASSERT_TRUE(t.wait_for(">")) << t.seen();
  t.type("\x03");
  ASSERT_TRUE(t.wait_for("stopped: interrupted (signal)")) << t.seen();
  ASSERT_TRUE(t.wait_for("instructions: ")) << t.seen();
  EXPECT_EQ(t.wait_exit(), 0);
  EXPECT_TRUE(t.settings().c_lflag & ECHO);
}

}  // namespace
