// The initrd: a cpio archive in the "newc" format (magic "070701"), as
// Linux's initramfs (Documentation/driver-api/early-userspace/
// buffer-format.rst). Each entry is a 110-byte ASCII header of 8-hex-digit
// fields, the NUL-terminated name padded to a multiple of 4 (counting the
// header), then the data padded to 4. The entry "TRAILER!!!" ends it.
// The archive stays where the boot loader put it: files are read in place.
#include "kernel.h"

#define HEADER_SIZE 110
#define FIELD_FILESIZE 6  // fields after the magic: ino mode uid gid nlink mtime filesize ...
#define FIELD_NAMESIZE 11

static const uint8_t* archive;
static uint32_t archive_size;
static int file_count;

static uint32_t hex_field(const uint8_t* header, int index) {
  const uint8_t* p = header + 6 + index * 8;
  uint32_t v = 0;
  for (int i = 0; i < 8; i++) {
    uint8_t c = p[i];
    v = v * 16 + (c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0');
  }
  return v;
}

// Walks the archive, counting files; with `want`, stops at the entry of
// that name and returns its data (size in *size_out), else returns 0.
static const uint8_t* walk(const char* want, uint32_t* size_out) {
  uint32_t off = 0;
  file_count = 0;
  while (archive && off + HEADER_SIZE <= archive_size) {
    const uint8_t* h = archive + off;
    if (memcmp(h, "070701", 6) != 0) break;
    uint32_t namesize = hex_field(h, FIELD_NAMESIZE), filesize = hex_field(h, FIELD_FILESIZE);
    const char* name = (const char*)h + HEADER_SIZE;
    uint32_t data = (off + HEADER_SIZE + namesize + 3) & ~3u;
    if (data + filesize > archive_size) break;
    if (strcmp(name, "TRAILER!!!") == 0) break;
    file_count++;
    if (want && strcmp(name, want) == 0) {
      *size_out = filesize;
      return archive + data;
    }
    off = (data + filesize + 3) & ~3u;
  }
  return 0;
}

void initrd_init(uint32_t start, uint32_t end) {
  archive = (const uint8_t*)start;
  archive_size = end - start;
  walk(0, 0);
}

int initrd_count(void) { return file_count; }

// "bin/cpu", "/bin/cpu" and "./bin/cpu" all name the entry "bin/cpu".
const uint8_t* initrd_find(const char* path, uint32_t* size) {
  while (*path == '/' || (path[0] == '.' && path[1] == '/')) path += (*path == '/') ? 1 : 2;
  int count = file_count;
  const uint8_t* r = walk(path, size);
  file_count = count;
  return r;
}
