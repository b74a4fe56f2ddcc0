/* sys/utsname.h: uname (Linux i386 syscall 122, "newuname"): six
 * NUL-terminated strings of 65 bytes each. */
#ifndef VS_SYS_UTSNAME_H
#define VS_SYS_UTSNAME_H

struct utsname {
  char sysname[65];  /* e.g. "Linux" */
  char nodename[65]; /* host name */
  char release[65];  /* kernel release */
  char version[65];  /* kernel build */
  char machine[65];  /* e.g. "i686" */
  char domainname[65];
};

int uname(struct utsname *buf);

#endif
