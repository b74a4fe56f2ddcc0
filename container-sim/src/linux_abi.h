// The bits of the Linux i386 ABI the kernel model serves: errno values
// (include/uapi/asm-generic/errno-base.h, errno.h), signal numbers
// (signal(7)), clone and mount flags, wait-status encoding (wait(2)), mmap flags (mman(2)).
#pragma once

#include <cstdint>
#include <string>

namespace vs::container_sim::linux_abi {

// strerror(3)'s words for -errno `e` ("Invalid argument"), for host-side
// messages (container_host.cpp).
std::string errno_text(int e);

constexpr int kEPERM = 1, kENOENT = 2, kESRCH = 3, kEINTR = 4, kE2BIG = 7, kENOEXEC = 8, kEBADF = 9;
constexpr int kECHILD = 10, kEAGAIN = 11, kENOMEM = 12, kEFAULT = 14, kENOTDIR = 20, kEISDIR = 21;
constexpr int kEINVAL = 22, kEMFILE = 24, kEPIPE = 32, kENAMETOOLONG = 36, kENOSYS = 38;
constexpr int kEACCES = 13, kEBUSY = 16, kEEXIST = 17, kENOSPC = 28, kEROFS = 30;
// networking (net.h, netlink.cpp, sockets.cpp)
constexpr int kENODEV = 19, kENFILE = 23, kENOTTY = 25, kERANGE = 34, kENOTSOCK = 88;
constexpr int kEDESTADDRREQ = 89, kEMSGSIZE = 90, kENOPROTOOPT = 92, kEPROTONOSUPPORT = 93;
constexpr int kESOCKTNOSUPPORT = 94, kEOPNOTSUPP = 95, kEAFNOSUPPORT = 97, kENETDOWN = 100, kENOBUFS = 105;
constexpr int kEISCONN = 106, kECONNREFUSED = 111;
// Files and overlayfs (docs/container-sim/overlayfs.md).
constexpr int kENXIO = 6, kEXDEV = 18, kEFBIG = 27, kESPIPE = 29, kENOTEMPTY = 39, kEOVERFLOW = 75;

// clone(2) flags (include/uapi/linux/sched.h); the CLONE_NEW* ones are NsType in namespaces.h.
constexpr uint32_t kCSIGNAL = 0x000000FF, kCLONE_VM = 0x00000100, kCLONE_FS = 0x00000200;
constexpr uint32_t kCLONE_FILES = 0x00000400, kCLONE_SIGHAND = 0x00000800, kCLONE_PIDFD = 0x00001000;
constexpr uint32_t kCLONE_PTRACE = 0x00002000, kCLONE_VFORK = 0x00004000, kCLONE_PARENT = 0x00008000;
constexpr uint32_t kCLONE_THREAD = 0x00010000, kCLONE_SYSVSEM = 0x00040000, kCLONE_SETTLS = 0x00080000;
constexpr uint32_t kCLONE_PARENT_SETTID = 0x00100000, kCLONE_CHILD_CLEARTID = 0x00200000;
constexpr uint32_t kCLONE_DETACHED = 0x00400000, kCLONE_UNTRACED = 0x00800000, kCLONE_CHILD_SETTID = 0x01000000;
constexpr uint32_t kCLONE_NEWCGROUP = 0x02000000, kCLONE_IO = 0x80000000u;

// mount(2) flags (include/uapi/linux/mount.h) and umount2's.
constexpr uint32_t kMS_BIND = 0x1000, kMS_REC = 0x4000, kMS_PRIVATE = 1u << 18, kMS_SLAVE = 1u << 19;
constexpr uint32_t kMS_SHARED = 1u << 20, kMS_UNBINDABLE = 1u << 17, kMNT_DETACH = 2;

constexpr int kSIGILL = 4, kSIGFPE = 8, kSIGKILL = 9, kSIGSEGV = 11, kSIGTERM = 15, kSIGCHLD = 17;
constexpr int kSIGCONT = 18, kSIGSTOP = 19, kSIGTSTP = 20, kSIGTTIN = 21, kSIGTTOU = 22, kSIGURG = 23;
constexpr int kSIGWINCH = 28;
constexpr uint32_t kSIG_DFL = 0, kSIG_IGN = 1, kSA_RESTORER = 0x04000000;
constexpr int kMaxSignal = 64;

// wait(2): a normal exit is code << 8 (WIFEXITED, WEXITSTATUS), a kill is
// the signal number in the low 7 bits (WIFSIGNALED, WTERMSIG).
constexpr int wait_status_exited(int code) { return (code & 0xFF) << 8; }
constexpr int kWNOHANG = 1;

constexpr uint32_t kPROT_MASK = 7, kMAP_PRIVATE = 0x02, kMAP_FIXED = 0x10, kMAP_ANONYMOUS = 0x20;
constexpr uint32_t kO_ACCMODE = 3;
// open(2) flags (include/uapi/asm-generic/fcntl.h, octal as there), lseek
// whence, and the file-type bits of st_mode (inode(7)).
constexpr uint32_t kO_WRONLY = 01, kO_RDWR = 02, kO_CREAT = 0100, kO_EXCL = 0200, kO_TRUNC = 01000;
constexpr uint32_t kO_APPEND = 02000, kO_DIRECTORY = 0200000;
constexpr uint32_t kSEEK_SET = 0, kSEEK_CUR = 1, kSEEK_END = 2;
constexpr uint32_t kS_IFMT = 0170000, kS_IFSOCK = 0140000, kS_IFLNK = 0120000, kS_IFREG = 0100000;
constexpr uint32_t kS_IFBLK = 0060000, kS_IFDIR = 0040000, kS_IFCHR = 0020000, kS_IFIFO = 0010000;
constexpr uint32_t kMS_RDONLY = 1;

}  // namespace vs::container_sim::linux_abi
