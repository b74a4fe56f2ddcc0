// The native lockstep oracle: the host CPU runs IA-32 user code in a traced i386
// process, one instruction per PTRACE_SINGLESTEP (ptrace(2), proc(5) /proc/PID/mem).
//
// How a stop becomes a StepResult. Vectors and fault/trap classes follow Intel
// SDM Vol. 3A §6.15; which signal and si_code the kernel sends for each
// exception is Linux's documented user ABI (sigaction(2), "si_code"):
//
//   signal  / si_code                 result          EIP reported (as the kernel left it)
//   SIGTRAP / TRAP_TRACE              Retired         the next instruction
//   SIGTRAP / SI_KERNEL               #BP   3         after INT3 / INT 3 (a trap)
//   SIGTRAP / other, on INT1 (F1)     #DB   1         after INT1 (a trap)
//   SIGFPE  / FPE_INTDIV              #DE   0         the DIV/IDIV (a fault)
//   SIGFPE  / FPE_INTOVF              #OF   4         (Linux x86 never sends it; other kernels might)
//   SIGFPE  / FPE_FLT*                #MF  16         on an x87 or WAIT opcode; otherwise #XM 19
//   SIGILL  / any                     #UD   6         the instruction (a fault)
//   SIGSEGV / SEGV_MAPERR, _ACCERR,   #PF  14         the instruction (a fault); error code unknown
//             _PKUERR                                 (0), the message holds si_addr
//   SIGSEGV / SI_KERNEL, EIP moved on #OF   4         after INTO / INT 4 (a trap: Linux sends SIGSEGV)
//   SIGSEGV / SI_KERNEL on BOUND (62) #BR   5         the BOUND (a fault)
//   SIGSEGV / SI_KERNEL otherwise     #GP  13         the instruction (a fault); error code unknown (0)
//   SIGBUS  / BUS_ADRALN              #AC  17         the instruction (a fault)
//   SIGBUS  / other                   #SS  12         the kernel reports #NP 11 the same way
//   anything else                     Error           the tracee is kept
//
// The signal is never delivered: the next resume passes signal 0, so the
// tracee survives and the driver can set_state() past the instruction.
//
// Where silicon-under-ptrace differs from the bare architecture, and what this
// file does about it:
//  - A REP string instruction single-steps one iteration at a time (SDM Vol. 3,
//    "Single-Step Exception Condition"); step() runs the rest to an instruction
//    breakpoint (DR0) on the next instruction, so one step is one whole
//    instruction as in the other oracles (without debug registers it
//    single-steps on, for a bounded time).
//  - MOV SS / POP SS delay the single-step trap past the next instruction
//    (SDM Vol. 3A §6.8.3): step() refuses them with an Error, as it refuses
//    INT 0x80 / SYSENTER / SYSCALL, which would enter the host kernel.
//  - PUSHF under single-step pushes the TF the tracer set; step() clears that
//    bit in the pushed image. RF (set in the frame of a fault) is not visible
//    to user code and is not reported.
//  - EFLAGS.IF is always 1 and IOPL 0; ptrace can set CF PF AF ZF SF DF OF AC,
//    ID goes through a POPF in the harness; other bits are left as they are.
//  - Segment selectors are the kernel's user selectors (CS 0x23, SS/DS/ES 0x2b,
//    FS/GS 0 on Linux x86-64) and set_state() ignores selectors.
//  - On hosts with UMIP the kernel emulates SGDT/SIDT/SLDT/SMSW/STR with dummy
//    results instead of letting them run.
//  - x87/SSE state is returned to the harness's initial state at each reset.
// All ptrace calls must come from the thread that called reset().
#include "virtscope/conformance/native_oracle.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace vs::conformance {
namespace {

// Offsets of the harness's gates from its entry point (conformance/harness/native_harness.S).
constexpr uint32_t kSyscallGate = 16;  // int $0x80; int3
constexpr uint32_t kPopfGate = 24;     // push eax; popf; int3

// i386 system call numbers (Linux arch/x86/entry/syscalls/syscall_32.tbl).
constexpr uint32_t kSysGetpid = 20;
constexpr uint32_t kSysMunmap = 91;
constexpr uint32_t kSysMmap2 = 192;

// EFLAGS bits (SDM Vol. 1 §3.4.3).
constexpr uint32_t kCF = 1u << 0, kPF = 1u << 2, kAF = 1u << 4, kZF = 1u << 6, kSF = 1u << 7;
constexpr uint32_t kTF = 1u << 8, kDF = 1u << 10, kOF = 1u << 11, kRF = 1u << 16;
constexpr uint32_t kAC = 1u << 18, kID = 1u << 21;
// The bits PTRACE_SETREGS lets a tracer change in user EFLAGS (TF and RF are
// the tracer's own business and are left alone).
constexpr uint32_t kPtraceSettable = kCF | kPF | kAF | kZF | kSF | kDF | kOF | kAC;

constexpr uint64_t kPage = MemoryImage::kPageSize;
constexpr uint64_t kAddressSpaceEnd = uint64_t(1) << 32;

// How long one tracee operation may take before the oracle gives up on it.
constexpr std::chrono::milliseconds kStopBudget{5000};

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string errno_text(int err) { return std::strerror(err); }

// ---------------------------------------------------------------------------
// Waiting for the tracee: bounded, without alarm(2).

// What waitpid(2) reported about the tracee.
struct Stop {
  enum class Kind { Signal, Exited, Killed, Timeout, Failed } kind = Kind::Failed;
  int value = 0;  // stop signal, exit status, killing signal, or errno
};

std::string describe_end(const Stop& s) {
  switch (s.kind) {
    case Stop::Kind::Signal:
      return "stopped by signal " + std::to_string(s.value);
    case Stop::Kind::Exited:
      return "the tracee exited with status " + std::to_string(s.value);
    case Stop::Kind::Killed:
      return "the tracee was killed by signal " + std::to_string(s.value);
    case Stop::Kind::Timeout:
      return "the tracee did not stop in time; it was killed";
    case Stop::Kind::Failed:
      return "waitpid failed: " + errno_text(s.value);
  }
  return "unknown stop";
}

// Polls waitpid(WNOHANG): a burst of yields first (a single-step stop usually
// arrives within microseconds), then short sleeps, for at most `budget`.
Stop wait_for_stop(pid_t pid, std::chrono::milliseconds budget) {
  const auto deadline = std::chrono::steady_clock::now() + budget;
  long sleep_ns = 20'000;
  for (int round = 0;; ++round) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      if (WIFSTOPPED(status)) return {Stop::Kind::Signal, WSTOPSIG(status)};
      if (WIFEXITED(status)) return {Stop::Kind::Exited, WEXITSTATUS(status)};
      if (WIFSIGNALED(status)) return {Stop::Kind::Killed, WTERMSIG(status)};
      continue;  // WIFCONTINUED: keep waiting
    }
    if (r < 0 && errno != EINTR) return {Stop::Kind::Failed, errno};
    if (std::chrono::steady_clock::now() >= deadline) return {Stop::Kind::Timeout, 0};
    if (round < 2000) {
      sched_yield();
    } else {
      timespec ts{0, sleep_ns};
      nanosleep(&ts, nullptr);
      sleep_ns = std::min(sleep_ns * 2, 2'000'000L);
    }
  }
}

// ---------------------------------------------------------------------------
// The instruction at EIP, only as far as this oracle needs to look at it
// (legacy prefixes and the first opcode bytes, SDM Vol. 2 §2.1).

struct InsnPeek {
  std::array<uint8_t, 16> bytes{};
  size_t len = 0;         // bytes readable at EIP
  size_t prefixes = 0;    // legacy prefix bytes before the opcode
  bool rep = false;       // F2 or F3 seen
  bool opsize16 = false;  // 66 seen

  int op(size_t i) const { return prefixes + i < len ? bytes[prefixes + i] : -1; }

  static InsnPeek parse(const uint8_t* data, size_t n) {
    InsnPeek p;
    p.len = std::min(n, p.bytes.size());
    std::copy_n(data, p.len, p.bytes.begin());
    while (p.prefixes < p.len) {
      uint8_t b = p.bytes[p.prefixes];
      if (b == 0xF2 || b == 0xF3)
        p.rep = true;
      else if (b == 0x66)
        p.opsize16 = true;
      else if (b != 0xF0 && b != 0x2E && b != 0x36 && b != 0x3E && b != 0x26 && b != 0x64 && b != 0x65 &&
               b != 0x67)
        break;
      ++p.prefixes;
    }
    return p;
  }

  // INT 0x80, SYSENTER, SYSCALL: the ways into the host kernel.
  bool enters_kernel() const {
    return (op(0) == 0xCD && op(1) == 0x80) || (op(0) == 0x0F && (op(1) == 0x34 || op(1) == 0x05));
  }
  // INS, OUTS, MOVS, CMPS, STOS, LODS, SCAS with a REP prefix.
  bool rep_string() const {
    int o = op(0);
    return rep && ((o >= 0x6C && o <= 0x6F) || (o >= 0xA4 && o <= 0xA7) || (o >= 0xAA && o <= 0xAF));
  }
  // MOV SS / POP SS hold off the single-step trap until after the next
  // instruction (SDM Vol. 3A §6.8.3), so a step could not stop between them.
  bool loads_ss() const { return op(0) == 0x17 || (op(0) == 0x8E && op(1) >= 0 && ((op(1) >> 3) & 7) == 2); }
  // A string instruction is prefixes + one opcode byte: no ModRM, no immediate.
  uint32_t rep_string_length() const { return uint32_t(prefixes + 1); }
  bool pushf() const { return op(0) == 0x9C; }
  bool x87_or_wait() const { return op(0) == 0x9B || (op(0) >= 0xD8 && op(0) <= 0xDF); }
  bool bound() const { return op(0) == 0x62; }
  bool int1() const { return op(0) == 0xF1; }
};

// ---------------------------------------------------------------------------
// The traced i386 process and its primitive operations.

class Tracee {
 public:
  Tracee() = default;
  Tracee(const Tracee&) = delete;
  Tracee& operator=(const Tracee&) = delete;
  ~Tracee() { kill(); }

  bool alive() const { return pid_ > 0; }

  // fork + PTRACE_TRACEME + execve(harness), then checks that an injected
  // getpid works. On failure returns why, in one sentence.
  std::optional<std::string> spawn(const std::string& harness);

  // SIGKILL and reap (only our own child, by pid); `reason` is what step()
  // will say afterwards.
  void kill(std::string reason = {}) {
    if (mem_fd_ >= 0) close(mem_fd_);
    mem_fd_ = -1;
    if (pid_ > 0) {
      if (!reason.empty()) end_reason_ = std::move(reason);
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    pid_ = -1;
  }
  // The tracee is gone already (reaped by wait_for_stop).
  void forget() {
    if (mem_fd_ >= 0) close(mem_fd_);
    mem_fd_ = -1;
    pid_ = -1;
  }

  // After a failed request: if the tracee no longer answers ptrace (it was
  // killed from outside, say), reaps it and notes why. True when it is gone.
  bool reap_if_gone() {
    if (pid_ <= 0) return true;
    user_regs_struct probe{};
    if (get_regs(&probe) || errno != ESRCH) return false;
    await();  // an exiting tracee ends within the budget and is reaped
    if (alive()) kill("the tracee stopped answering ptrace; it was killed");
    return true;
  }

  bool get_regs(user_regs_struct* r) { return ptrace(PTRACE_GETREGS, pid_, nullptr, r) == 0; }
  bool set_regs(user_regs_struct r) {
    r.orig_rax = ~0ull;  // no system call to restart when it resumes
    return ptrace(PTRACE_SETREGS, pid_, nullptr, &r) == 0;
  }
  bool set_debugreg(int i, uint64_t value) {
    auto offset = offsetof(struct user, u_debugreg) + size_t(i) * sizeof(user::u_debugreg[0]);
    return ptrace(PTRACE_POKEUSER, pid_, reinterpret_cast<void*>(offset), reinterpret_cast<void*>(value)) ==
           0;
  }
  bool get_siginfo(siginfo_t* si) { return ptrace(PTRACE_GETSIGINFO, pid_, nullptr, si) == 0; }
  bool restore_fpu() { return ptrace(PTRACE_SETFPREGS, pid_, nullptr, &pristine_fpu_) == 0; }

  // Resumes for exactly one instruction; the pending signal, if any, is dropped.
  Stop single_step() {
    if (ptrace(PTRACE_SINGLESTEP, pid_, nullptr, nullptr) != 0) return {Stop::Kind::Failed, errno};
    return await();
  }

  // Runs freely until EIP reaches `addr`, with an instruction breakpoint in
  // DR0 (SDM Vol. 3, "Debug Control Register (DR7)"), or until something else
  // stops it. False when the host refuses the debug registers.
  bool run_to(uint32_t addr, Stop* stop) {
    if (!set_debugreg(0, addr) || !set_debugreg(7, 1)) return false;  // L0, execute, 1 byte
    if (ptrace(PTRACE_CONT, pid_, nullptr, nullptr) != 0)
      *stop = {Stop::Kind::Failed, errno};
    else
      *stop = await();
    if (alive()) set_debugreg(7, 0);
    return true;
  }

  // Reads up to `len` bytes at `addr`; returns how many could be read
  // (stops at the first unreadable page).
  size_t read(uint64_t addr, uint8_t* out, size_t len) {
    size_t done = 0;
    while (done < len) {
      ssize_t n = pread(mem_fd_, out + done, len - done, off_t(addr + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += size_t(n);
    }
    return done;
  }
  bool write(uint64_t addr, const uint8_t* data, size_t len) {
    size_t done = 0;
    while (done < len) {
      ssize_t n = pwrite(mem_fd_, data + done, len - done, off_t(addr + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += size_t(n);
    }
    return true;
  }

  // Makes i386 system call `nr` through the harness's int $0x80 gate.
  // Clobbers the registers; the caller sets them afterwards.
  std::optional<std::string> syscall(uint32_t nr, std::array<uint32_t, 6> args, uint32_t* result);

  // Sets EFLAGS (including ID, which ptrace cannot set) with POPF in the harness.
  // Clobbers the other registers; the caller sets them afterwards.
  std::optional<std::string> popf(uint32_t eflags);

  const user_regs_struct& pristine_regs() const { return pristine_regs_; }
  const std::string& end_reason() const { return end_reason_; }

  // Waits for the next stop; notes the end of the tracee if it ended.
  Stop await() {
    Stop s = wait_for_stop(pid_, kStopBudget);
    if (s.kind == Stop::Kind::Exited || s.kind == Stop::Kind::Killed) {
      end_reason_ = describe_end(s);
      forget();
    } else if (s.kind == Stop::Kind::Timeout) {
      end_reason_ = describe_end(s);
      kill();
    }
    return s;
  }

 private:
  // Runs the gate at entry + `offset` with `regs` until its int3, `insn_len`
  // bytes later; leaves the registers it produced in *out.
  std::optional<std::string> run_gate(uint32_t offset, uint32_t insn_len, user_regs_struct regs,
                                      user_regs_struct* out);

  pid_t pid_ = -1;
  int mem_fd_ = -1;                    // /proc/PID/mem, read and written with pread/pwrite
  uint32_t entry_ = 0;                 // the harness's entry point, where the gates are
  user_regs_struct pristine_regs_{};   // registers at the execve stop (selectors, ESP of the real stack)
  user_fpregs_struct pristine_fpu_{};  // x87/SSE state at the execve stop
  std::string end_reason_;             // why the tracee is gone, once it is
};

std::optional<std::string> Tracee::spawn(const std::string& harness) {
  kill();
  end_reason_.clear();
  int report_pipe[2];
  if (pipe2(report_pipe, O_CLOEXEC) != 0) return "pipe2 failed: " + errno_text(errno);
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls (fork(2) in a multithreaded process).
  char* argv[] = {const_cast<char*>(harness.c_str()), nullptr};
  char* envp[] = {nullptr};
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(report_pipe[0]);
    close(report_pipe[1]);
    return "fork failed: " + errno_text(err);
  }
  if (pid == 0) {
    close(report_pipe[0]);
    setpgid(0, 0);  // keep terminal signals (Ctrl-C) away from the tracee
    int report[2] = {1, 0};
    if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) == 0) {
      execve(harness.c_str(), argv, envp);
      report[0] = 2;
    }
    report[1] = errno;
    ssize_t ignored = ::write(report_pipe[1], report, sizeof report);
    (void)ignored;
    _exit(127);
  }
  close(report_pipe[1]);
  int report[2] = {0, 0};
  ssize_t n;
  do {
    n = ::read(report_pipe[0], report, sizeof report);
  } while (n < 0 && errno == EINTR);
  close(report_pipe[0]);
  pid_ = pid;
  if (n == ssize_t(sizeof report)) {
    kill();
    if (report[0] == 1) return "ptrace(PTRACE_TRACEME) is not permitted here: " + errno_text(report[1]);
    if (report[1] == ENOEXEC)
      return "the host cannot execute i386 ELF programs (execve of " + harness +
             ": Exec format error; the kernel lacks IA-32 emulation)";
    return "cannot execute the harness " + harness + ": " + errno_text(report[1]);
  }
  Stop s = await();
  if (s.kind != Stop::Kind::Signal || s.value != SIGTRAP) {
    kill();
    return "the harness did not stop after execve (" + describe_end(s) + ")";
  }
  // If this process dies, the kernel kills the tracee too.
  ptrace(PTRACE_SETOPTIONS, pid_, nullptr, reinterpret_cast<void*>(uintptr_t(PTRACE_O_EXITKILL)));
  if (!get_regs(&pristine_regs_) || ptrace(PTRACE_GETFPREGS, pid_, nullptr, &pristine_fpu_) != 0) {
    kill();
    return "cannot read the harness's registers: " + errno_text(errno);
  }
  if (pristine_regs_.rip > 0xFFFFFFFFull) {
    kill();
    return "the harness is not a 32-bit process";
  }
  entry_ = uint32_t(pristine_regs_.rip);
  std::string mem_path = "/proc/" + std::to_string(pid_) + "/mem";
  mem_fd_ = open(mem_path.c_str(), O_RDWR | O_CLOEXEC);
  if (mem_fd_ < 0) {
    int err = errno;
    kill();
    return "cannot open " + mem_path + ": " + errno_text(err);
  }
  uint32_t got = 0;
  if (auto err = syscall(kSysGetpid, {}, &got)) {
    kill();
    return "a system call injected into the harness failed: " + *err;
  }
  if (got != uint32_t(pid_)) {
    kill();
    return "getpid in the harness returned " + std::to_string(got) + ", not " + std::to_string(pid_);
  }
  return std::nullopt;
}

std::optional<std::string> Tracee::run_gate(uint32_t offset, uint32_t insn_len, user_regs_struct regs,
                                            user_regs_struct* out) {
  regs.rip = entry_ + offset;
  if (!set_regs(regs)) return "PTRACE_SETREGS failed: " + errno_text(errno);
  if (ptrace(PTRACE_CONT, pid_, nullptr, nullptr) != 0) return "PTRACE_CONT failed: " + errno_text(errno);
  Stop s = await();
  if (s.kind != Stop::Kind::Signal) return describe_end(s);
  if (!get_regs(out)) return "PTRACE_GETREGS failed: " + errno_text(errno);
  if (s.value != SIGTRAP || out->rip != entry_ + offset + insn_len)
    return "the harness gate stopped with signal " + std::to_string(s.value) + " at " + hex(out->rip);
  return std::nullopt;
}

std::optional<std::string> Tracee::syscall(uint32_t nr, std::array<uint32_t, 6> args, uint32_t* result) {
  user_regs_struct r = pristine_regs_;
  r.rax = nr;  // i386 convention: EBX ECX EDX ESI EDI EBP
  r.rbx = args[0];
  r.rcx = args[1];
  r.rdx = args[2];
  r.rsi = args[3];
  r.rdi = args[4];
  r.rbp = args[5];
  user_regs_struct after{};
  if (auto err = run_gate(kSyscallGate, 3, r, &after)) return err;  // CD 80, CC
  *result = uint32_t(after.rax);
  return std::nullopt;
}

std::optional<std::string> Tracee::popf(uint32_t eflags) {
  user_regs_struct r = pristine_regs_;
  r.rax = eflags;
  r.rsp = pristine_regs_.rsp - 64;  // the kernel-made stack of the harness
  user_regs_struct after{};
  return run_gate(kPopfGate, 3, r, &after);  // 50, 9D, CC
}

// ---------------------------------------------------------------------------
// Register conversion between ArchState and the x86-64 user_regs_struct that
// ptrace uses for a 32-bit tracee too.

ArchState to_arch_state(const user_regs_struct& r) {
  ArchState s;
  s.gpr[EAX] = uint32_t(r.rax);
  s.gpr[ECX] = uint32_t(r.rcx);
  s.gpr[EDX] = uint32_t(r.rdx);
  s.gpr[EBX] = uint32_t(r.rbx);
  s.gpr[ESP] = uint32_t(r.rsp);
  s.gpr[EBP] = uint32_t(r.rbp);
  s.gpr[ESI] = uint32_t(r.rsi);
  s.gpr[EDI] = uint32_t(r.rdi);
  s.eip = uint32_t(r.rip);
  s.eflags = uint32_t(r.eflags) & ~kRF;
  s.seg[ES] = uint16_t(r.es);
  s.seg[CS] = uint16_t(r.cs);
  s.seg[SS] = uint16_t(r.ss);
  s.seg[DS] = uint16_t(r.ds);
  s.seg[FS] = uint16_t(r.fs);
  s.seg[GS] = uint16_t(r.gs);
  return s;
}

// GPRs, EIP and the settable EFLAGS bits of `s` over `r` (selectors stay).
void apply_arch_state(const ArchState& s, user_regs_struct* r) {
  r->rax = s.gpr[EAX];
  r->rcx = s.gpr[ECX];
  r->rdx = s.gpr[EDX];
  r->rbx = s.gpr[EBX];
  r->rsp = s.gpr[ESP];
  r->rbp = s.gpr[EBP];
  r->rsi = s.gpr[ESI];
  r->rdi = s.gpr[EDI];
  r->rip = s.eip;
  r->eflags = (r->eflags & ~uint64_t(kPtraceSettable)) | (s.eflags & kPtraceSettable);
}

// ---------------------------------------------------------------------------
// Which pages the tracee needs: both windows and every page of the image,
// merged into page-aligned ranges.

struct Range {
  uint64_t begin, end;  // [begin, end), page-aligned; end may be 4 GiB
};

std::vector<Range> ranges_to_map(const Layout& layout, const MemoryImage& mem) {
  std::vector<Range> raw;
  auto add = [&](uint64_t base, uint64_t size) {
    if (size == 0) return;
    uint64_t b = base & ~(kPage - 1);
    uint64_t e = std::min((base + size + kPage - 1) & ~(kPage - 1), kAddressSpaceEnd);
    raw.push_back({b, e});
  };
  add(layout.code_base, layout.code_size);
  add(layout.data_base, layout.data_size);
  for (const auto& [base, bytes] : mem.pages) add(base, kPage);
  std::sort(raw.begin(), raw.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  std::vector<Range> merged;
  for (const Range& r : raw) {
    if (!merged.empty() && r.begin <= merged.back().end)
      merged.back().end = std::max(merged.back().end, r.end);
    else
      merged.push_back(r);
  }
  return merged;
}

std::string explain_mmap_error(uint32_t neg_errno) {
  int err = int(-int32_t(neg_errno));
  std::string text = errno_text(err);
  if (err == EEXIST)
    text += " (it overlaps the harness process: its code near 0xe0000000, its stack and vDSO near 4 GiB)";
  if (err == EPERM || err == EACCES) text += " (below vm.mmap_min_addr?)";
  return text;
}

// ---------------------------------------------------------------------------

class NativeOracle final : public Oracle {
 public:
  std::string name() const override { return "native"; }
  bool available(StartMode mode, std::string* why) override;
  std::optional<std::string> reset(StartMode mode, const Layout& layout, const MemoryImage& mem,
                                   const ArchState& start) override;
  StepResult step() override;
  ArchState state() override { return to_arch_state(regs_); }
  void set_state(const ArchState& s) override;
  std::vector<uint8_t> read_memory(uint32_t addr, uint32_t len) override;

 private:
  // Starts the tracee if there is none; the first failure is remembered.
  std::optional<std::string> ensure_tracee();
  std::optional<std::string> map_ranges(const std::vector<Range>& ranges);
  std::optional<std::string> unmap_all();
  std::optional<std::string> write_registers(const ArchState& s);
  InsnPeek peek_at_eip();
  StepResult finish_step(const Stop& stop, const InsnPeek& insn, uint32_t eip_before, uint32_t esp_before);
  StepResult classify_signal(int sig, const InsnPeek& insn, uint32_t eip_before);
  void scrub_pushed_tf(const InsnPeek& insn, uint32_t esp_before);
  StepResult finish_rep_string(const InsnPeek& insn, uint32_t eip_before, uint32_t esp_before);
  StepResult fail(std::string why) {
    StepResult r;
    r.kind = StepResult::Kind::Error;
    r.message = std::move(why);
    return r;
  }
  std::string gone_reason() const {
    if (tracee_.alive()) return "native oracle: no stream loaded (the last reset() failed or none was made)";
    if (!tracee_.end_reason().empty())
      return "native oracle: " + tracee_.end_reason() + "; reset() starts a new one";
    return "native oracle: no tracee; call reset() first";
  }

  Tracee tracee_;
  std::optional<std::string> spawn_error_;  // set once spawning failed: the host cannot do it
  bool probed_ = false;
  bool loaded_ = false;        // reset() succeeded since the tracee started
  std::vector<Range> mapped_;  // what reset() mapped in the tracee, unmapped by the next
  user_regs_struct regs_{};    // the tracee's registers, kept current after each operation
};

std::string harness_path() {
  if (const char* env = std::getenv("VIRTSCOPE_HARNESS32"); env && *env) return env;
#ifdef VS_NATIVE_HARNESS32_BUILD_PATH
  if (access(VS_NATIVE_HARNESS32_BUILD_PATH, X_OK) == 0) return VS_NATIVE_HARNESS32_BUILD_PATH;
#endif
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "virtscope-harness32";
  return (exe.parent_path() / "virtscope-harness32").string();
}

std::optional<std::string> NativeOracle::ensure_tracee() {
  if (tracee_.alive()) return std::nullopt;
  if (spawn_error_) return spawn_error_;
  loaded_ = false;
  mapped_.clear();
  std::string path = harness_path();
  if (access(path.c_str(), X_OK) != 0) {
    // A missing harness is a build problem, not a host limit: do not cache it.
    return "the i386 harness " + path + " is missing (build target vs_harness32, or set VIRTSCOPE_HARNESS32)";
  }
  if (auto err = tracee_.spawn(path)) {
    spawn_error_ = err;
    return err;
  }
  regs_ = tracee_.pristine_regs();
  return std::nullopt;
}

bool NativeOracle::available(StartMode mode, std::string* why) {
  if (mode != StartMode::UserFlat32) {
    if (why) *why = "the native oracle runs user-level code only (StartMode::UserFlat32)";
    return false;
  }
  if (!probed_ || !tracee_.alive()) {
    probed_ = true;
    if (auto err = ensure_tracee()) {
      if (why) *why = *err;
      return false;
    }
  }
  return true;
}

std::optional<std::string> NativeOracle::unmap_all() {
  for (const Range& r : mapped_) {
    uint32_t res = 0;
    if (auto err = tracee_.syscall(kSysMunmap, {uint32_t(r.begin), uint32_t(r.end - r.begin)}, &res))
      return "munmap in the tracee failed: " + *err;
  }
  mapped_.clear();
  return std::nullopt;
}

std::optional<std::string> NativeOracle::map_ranges(const std::vector<Range>& ranges) {
  for (const Range& r : ranges) {
    uint32_t len = uint32_t(r.end - r.begin);
    uint32_t got = 0;
    std::array<uint32_t, 6> args = {uint32_t(r.begin),
                                    len,
                                    PROT_READ | PROT_WRITE | PROT_EXEC,
                                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                                    ~0u,
                                    0};
    if (auto err = tracee_.syscall(kSysMmap2, args, &got)) return "mmap2 in the tracee failed: " + *err;
    if (got >= 0xFFFFF001u)
      return "cannot map [" + hex(r.begin) + ", " + hex(r.end) +
             ") in the tracee: " + explain_mmap_error(got);
    if (got != r.begin) {  // an old kernel took MAP_FIXED_NOREPLACE as a hint
      uint32_t ignored = 0;
      tracee_.syscall(kSysMunmap, {got, len}, &ignored);
      return "cannot map [" + hex(r.begin) + ", " + hex(r.end) + ") in the tracee: the address is taken";
    }
    mapped_.push_back(r);
  }
  return std::nullopt;
}

std::optional<std::string> NativeOracle::write_registers(const ArchState& s) {
  // ID is out of ptrace's reach: set it with POPF in the harness first.
  if (((uint32_t(regs_.eflags) ^ s.eflags) & kID) != 0) {
    uint32_t want = (uint32_t(regs_.eflags) & ~(kPtraceSettable | kID | kTF | kRF)) |
                    (s.eflags & (kPtraceSettable | kID));
    if (auto err = tracee_.popf(want)) return "setting EFLAGS.ID failed: " + *err;
    user_regs_struct after{};
    if (!tracee_.get_regs(&after)) return "PTRACE_GETREGS failed: " + errno_text(errno);
    regs_.eflags = after.eflags;
  }
  user_regs_struct r = regs_;
  apply_arch_state(s, &r);
  if (!tracee_.set_regs(r)) return "PTRACE_SETREGS failed: " + errno_text(errno);
  if (!tracee_.get_regs(&regs_)) return "PTRACE_GETREGS failed: " + errno_text(errno);
  return std::nullopt;
}

std::optional<std::string> NativeOracle::reset(StartMode mode, const Layout& layout, const MemoryImage& mem,
                                               const ArchState& start) {
  if (mode != StartMode::UserFlat32)
    return "the native oracle runs user-level code only (StartMode::UserFlat32)";
  if (auto err = ensure_tracee()) return err;
  loaded_ = false;
  auto attempt = [&]() -> std::optional<std::string> {
    if (auto err = unmap_all()) return err;
    if (auto err = map_ranges(ranges_to_map(layout, mem))) return err;
    for (const auto& [base, bytes] : mem.pages) {
      if (bytes.size() != kPage) return "memory image page " + hex(base) + " is not 4096 bytes";
      if (!tracee_.write(base, bytes.data(), bytes.size()))
        return "writing page " + hex(base) + " into the tracee failed: " + errno_text(errno);
    }
    if (!tracee_.restore_fpu()) return "PTRACE_SETFPREGS failed: " + errno_text(errno);
    // The real registers, not a saved copy: EFLAGS.ID may differ from it.
    if (!tracee_.get_regs(&regs_)) return "PTRACE_GETREGS failed: " + errno_text(errno);
    return write_registers(start);
  };
  auto err = attempt();
  if (err && tracee_.reap_if_gone()) {
    // The old tracee died under us (killed from outside?): one fresh try.
    if (auto spawn_err = ensure_tracee()) return spawn_err;
    err = attempt();
  }
  if (err) return "native oracle: " + *err;
  loaded_ = true;
  return std::nullopt;
}

void NativeOracle::set_state(const ArchState& s) {
  if (!tracee_.alive() || !loaded_) return;  // the next step() reports why
  if (auto err = write_registers(s)) {
    // A register write the kernel refuses leaves the tracee unusable for
    // lockstep; end it so step() says so instead of running from a wrong state.
    if (!tracee_.reap_if_gone()) tracee_.kill("set_state failed: " + *err);
    loaded_ = false;
  }
}

std::vector<uint8_t> NativeOracle::read_memory(uint32_t addr, uint32_t len) {
  std::vector<uint8_t> out(len, 0);  // unreadable bytes read as 0, like MemoryImage
  if (!tracee_.alive() || !loaded_) return out;
  uint64_t pos = addr;
  const uint64_t end = std::min(uint64_t(addr) + len, kAddressSpaceEnd);
  while (pos < end) {
    uint64_t chunk = std::min(end, (pos & ~(kPage - 1)) + kPage) - pos;  // up to the page end
    tracee_.read(pos, out.data() + (pos - addr), size_t(chunk));
    pos += chunk;
  }
  return out;
}

InsnPeek NativeOracle::peek_at_eip() {
  uint8_t buf[16];
  size_t n = tracee_.read(uint32_t(regs_.rip), buf, sizeof buf);
  return InsnPeek::parse(buf, n);
}

StepResult NativeOracle::step() {
  if (!tracee_.alive() || !loaded_) return fail(gone_reason());
  const InsnPeek insn = peek_at_eip();
  const uint32_t eip_before = uint32_t(regs_.rip);
  const uint32_t esp_before = uint32_t(regs_.rsp);
  if (insn.enters_kernel())
    return fail("native oracle: refusing to step a system call instruction (INT 0x80/SYSENTER/SYSCALL) at " +
                hex(eip_before) + ": it would enter the host kernel");
  if (insn.loads_ss())
    return fail("native oracle: refusing to step MOV SS/POP SS at " + hex(eip_before) +
                ": single-step cannot stop before the instruction after it");
  StepResult r = finish_step(tracee_.single_step(), insn, eip_before, esp_before);
  // A REP string instruction traps after each iteration: finish the rest.
  if (r.kind == StepResult::Kind::Retired && insn.rep_string() && uint32_t(regs_.rip) == eip_before)
    return finish_rep_string(insn, eip_before, esp_before);
  return r;
}

StepResult NativeOracle::finish_rep_string(const InsnPeek& insn, uint32_t eip_before, uint32_t esp_before) {
  const uint32_t next = eip_before + insn.rep_string_length();
  // The breakpoint's SIGTRAP (TRAP_HWBKPT) classifies as retired; a fault in a
  // later iteration as that fault, with EIP still on the instruction.
  Stop stop;
  if (tracee_.run_to(next, &stop)) return finish_step(stop, insn, eip_before, esp_before);
  // No debug registers: one iteration per single-step, within a time budget.
  const auto deadline = std::chrono::steady_clock::now() + 2 * kStopBudget;
  for (;;) {
    StepResult r = finish_step(tracee_.single_step(), insn, eip_before, esp_before);
    if (r.kind != StepResult::Kind::Retired || uint32_t(regs_.rip) != eip_before) return r;
    if (std::chrono::steady_clock::now() > deadline) {
      tracee_.kill("a REP string instruction at " + hex(eip_before) +
                   " did not finish in time; it was killed");
      loaded_ = false;
      return fail(gone_reason());
    }
  }
}

StepResult NativeOracle::finish_step(const Stop& stop, const InsnPeek& insn, uint32_t eip_before,
                                     uint32_t esp_before) {
  if (stop.kind == Stop::Kind::Failed && !tracee_.reap_if_gone())
    return fail("native oracle: ptrace failed: " + errno_text(stop.value));
  if (stop.kind != Stop::Kind::Signal || !tracee_.get_regs(&regs_)) {
    if (tracee_.alive() && !tracee_.reap_if_gone())
      tracee_.kill("PTRACE_GETREGS failed: " + errno_text(errno));
    loaded_ = false;
    return fail(gone_reason());
  }
  StepResult r = classify_signal(stop.value, insn, eip_before);
  if (r.kind == StepResult::Kind::Retired && insn.pushf()) scrub_pushed_tf(insn, esp_before);
  return r;
}

StepResult NativeOracle::classify_signal(int sig, const InsnPeek& insn, uint32_t eip_before) {
  siginfo_t si{};
  if (!tracee_.get_siginfo(&si)) return fail("native oracle: PTRACE_GETSIGINFO failed: " + errno_text(errno));
  StepResult r;
  auto exception = [&](int vector, std::string what) {
    r.kind = StepResult::Kind::Exception;
    r.vector = vector;
    r.message = std::move(what);
    return r;
  };
  const uint32_t eip_after = uint32_t(regs_.rip);
  const std::string fault_addr = hex(reinterpret_cast<uintptr_t>(si.si_addr));
  switch (sig) {
    case SIGTRAP:
      if (si.si_code == TRAP_TRACE) return r;  // the single-step trap: retired
      if (si.si_code == SI_KERNEL) return exception(3, "SIGTRAP/SI_KERNEL (INT3)");
      if (insn.int1()) return exception(1, "SIGTRAP from INT1");
      return r;  // a single-step trap reported with another code
    case SIGFPE:
      if (si.si_code == FPE_INTDIV) return exception(0, "SIGFPE/FPE_INTDIV");
      if (si.si_code == FPE_INTOVF) return exception(4, "SIGFPE/FPE_INTOVF");
      if (insn.x87_or_wait())
        return exception(16, "SIGFPE/" + std::to_string(si.si_code) + " on an x87 instruction");
      return exception(19, "SIGFPE/" + std::to_string(si.si_code) + " on a SIMD instruction");
    case SIGILL:
      return exception(6, "SIGILL/" + std::to_string(si.si_code));
    case SIGSEGV:
      if (si.si_code == SEGV_MAPERR) return exception(14, "SIGSEGV/SEGV_MAPERR at " + fault_addr);
      if (si.si_code == SEGV_ACCERR) return exception(14, "SIGSEGV/SEGV_ACCERR at " + fault_addr);
      if (si.si_code == SEGV_PKUERR) return exception(14, "SIGSEGV/SEGV_PKUERR at " + fault_addr);
      if (eip_after != eip_before) return exception(4, "SIGSEGV/SI_KERNEL after the instruction (INTO)");
      if (insn.bound()) return exception(5, "SIGSEGV/SI_KERNEL on BOUND");
      return exception(13, "SIGSEGV/SI_KERNEL");
    case SIGBUS:
      if (si.si_code == BUS_ADRALN) return exception(17, "SIGBUS/BUS_ADRALN");
      return exception(12, "SIGBUS/" + std::to_string(si.si_code) + " (#SS, or #NP)");
    default: {
      const char* abbrev = sigabbrev_np(sig);
      return fail("native oracle: unexpected signal SIG" + std::string(abbrev ? abbrev : "?") + " (" +
                  std::to_string(sig) + ") at " + hex(eip_after) + "; it was not delivered");
    }
  }
}

void NativeOracle::scrub_pushed_tf(const InsnPeek& insn, uint32_t esp_before) {
  const uint32_t width = insn.opsize16 ? 2 : 4;
  const uint32_t esp = uint32_t(regs_.rsp);
  if (esp_before - esp != width) return;
  uint8_t image[4] = {};
  if (tracee_.read(esp, image, width) != width) return;
  if ((image[1] & (kTF >> 8)) == 0) return;
  image[1] &= uint8_t(~(kTF >> 8));
  tracee_.write(esp, image, width);
}

}  // namespace

std::unique_ptr<Oracle> make_native_oracle() { return std::make_unique<NativeOracle>(); }

}  // namespace vs::conformance
