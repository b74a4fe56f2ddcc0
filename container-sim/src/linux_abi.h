// The bits of the Linux i386 ABI the kernel model serves: errno values
// (include/uapi/asm-generic/errno-base.h, errno.h), signal numbers
// (signal(7)), wait-status encoding (wait(2)), mmap flags (mman(2)).
#pragma once

#include <cstdint>

namespace vs::container_sim::linux_abi {

constexpr int kEPERM = 1, kENOENT = 2, kESRCH = 3, kEINTR = 4, kE2BIG = 7, kENOEXEC = 8, kEBADF = 9;
constexpr int kECHILD = 10, kEAGAIN = 11, kENOMEM = 12, kEFAULT = 14, kENOTDIR = 20, kEISDIR = 21;
constexpr int kEINVAL = 22, kEMFILE = 24, kEPIPE = 32, kENAMETOOLONG = 36, kENOSYS = 38;

constexpr int kSIGILL = 4, kSIGFPE = 8, kSIGKILL = 9, kSIGSEGV = 11;
constexpr int kMaxSignal = 64;

// wait(2): a normal exit is code << 8 (WIFEXITED, WEXITSTATUS), a kill is
// the signal number in the low 7 bits (WIFSIGNALED, WTERMSIG).
constexpr int wait_status_exited(int code) { return (code & 0xFF) << 8; }
constexpr int kWNOHANG = 1;

constexpr uint32_t kPROT_MASK = 7, kMAP_PRIVATE = 0x02, kMAP_FIXED = 0x10, kMAP_ANONYMOUS = 0x20;
constexpr uint32_t kO_ACCMODE = 3;

}  // namespace vs::container_sim::linux_abi
