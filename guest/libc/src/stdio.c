/* stdio.h: printf and friends, unbuffered.
 *
 * One formatter writes into a "sink". For the fd functions the sink is a
 * 512-byte buffer on the stack that is written out when full and at the
 * end, so a short printf is exactly one write() system call: output from
 * several processes sharing a console never interleaves inside a line,
 * and a syscall trace shows one write per printf. For snprintf the sink is
 * the caller's buffer, and what does not fit is counted but dropped
 * (C11 7.21.6.5).
 *
 * Supported: %d %i %u %x %X %o %c %s %p %%; flags '-' '0' '+' ' ' '#';
 * width and precision as numbers or '*'; lengths hh h l ll z. No floating
 * point (the guest CPU has no FPU yet), no %n. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FD_BUFFER 512

struct sink {
  char *buf;   /* where bytes go */
  size_t cap;  /* size of buf */
  size_t len;  /* bytes in buf */
  int fd;      /* >= 0: flush buf to this fd when full; -1: snprintf */
  int total;   /* characters produced so far (the return value) */
  bool failed; /* a write() failed */
};

static void flush(struct sink *s) {
  size_t done = 0;
  while (done < s->len && !s->failed) {
    ssize_t n = write(s->fd, s->buf + done, s->len - done);
    if (n <= 0) s->failed = true;
    else done += (size_t)n;
  }
  s->len = 0;
}

static void put(struct sink *s, char c) {
  s->total++;
  if (s->fd >= 0) {
    if (s->len == s->cap) flush(s);
    s->buf[s->len++] = c;
  } else if (s->len + 1 < s->cap) {
    s->buf[s->len++] = c; /* keep one byte for the terminating NUL */
  }
}

static void put_repeat(struct sink *s, char c, int n) {
  while (n-- > 0) put(s, c);
}

struct spec {
  bool left;     /* '-': pad on the right */
  bool zero;     /* '0': pad numbers with zeros */
  bool alt;      /* '#': 0x / 0 prefix */
  char sign;     /* '+', ' ' or 0: what to print before a non-negative number */
  int width;     /* minimum field width */
  int precision; /* -1 if none: minimum digits, or maximum string length */
};

/* Prints `text` (len bytes) in a field of spec->width, with `prefix` (sign,
 * 0x) and `zeros` leading zeros between the prefix and the text. */
static void put_field(struct sink *s, const struct spec *sp, const char *prefix, int zeros, const char *text,
                      int len) {
  int plen = (int)strlen(prefix);
  int pad = sp->width - plen - zeros - len;
  if (!sp->left) put_repeat(s, ' ', pad);
  while (*prefix) put(s, *prefix++);
  put_repeat(s, '0', zeros);
  for (int i = 0; i < len; i++) put(s, text[i]);
  if (sp->left) put_repeat(s, ' ', pad);
}

static void put_number(struct sink *s, const struct spec *sp, uint64_t value, bool negative, unsigned base,
                       bool upper, const char *alt_prefix) {
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char tmp[24]; /* 2^64 has 22 octal digits */
  int n = 0;
  if (value >> 32) {
    /* 64-bit division: gcc calls __udivdi3/__umoddi3 (divdi3.c) */
    while (value) {
      tmp[sizeof tmp - 1 - n++] = digits[value % base];
      value /= base;
    }
  } else {
    uint32_t v = (uint32_t)value;
    while (v) {
      tmp[sizeof tmp - 1 - n++] = digits[v % base];
      v /= base;
    }
  }
  /* C11 7.21.6.1: precision 0 with value 0 prints no digits at all. */
  if (n == 0 && sp->precision != 0) tmp[sizeof tmp - 1 - n++] = '0';
  char prefix[4] = {0};
  if (negative) prefix[0] = '-';
  else if (sp->sign) prefix[0] = sp->sign;
  if (alt_prefix) strcpy(prefix + strlen(prefix), alt_prefix);
  int zeros = 0;
  if (sp->precision > n) zeros = sp->precision - n;
  else if (sp->zero && !sp->left && sp->precision < 0) zeros = sp->width - (int)strlen(prefix) - n;
  if (zeros < 0) zeros = 0;
  put_field(s, sp, prefix, zeros, tmp + sizeof tmp - n, n);
}

/* Reads a number (width or precision) or '*' from the format. */
static int read_count(const char **f, va_list *ap) {
  if (**f == '*') {
    (*f)++;
    return va_arg(*ap, int);
  }
  int n = 0;
  while (**f >= '0' && **f <= '9') n = n * 10 + (*(*f)++ - '0');
  return n;
}

static void format(struct sink *s, const char *f, va_list ap_in) {
  va_list ap;
  va_copy(ap, ap_in);
  while (*f) {
    if (*f != '%') {
      put(s, *f++);
      continue;
    }
    const char *start = f++;
    struct spec sp = {false, false, false, 0, 0, -1};
    for (;; f++) {
      if (*f == '-') sp.left = true;
      else if (*f == '0') sp.zero = true;
      else if (*f == '#') sp.alt = true;
      else if (*f == '+') sp.sign = '+';
      else if (*f == ' ' && !sp.sign) sp.sign = ' ';
      else break;
    }
    sp.width = read_count(&f, &ap);
    if (sp.width < 0) { /* a negative '*' width means '-' (C11 7.21.6.1p5) */
      sp.left = true;
      sp.width = -sp.width;
    }
    if (*f == '.') {
      f++;
      sp.precision = read_count(&f, &ap);
      if (sp.precision < 0) sp.precision = -1;
    }
    int length = 0; /* -2 hh, -1 h, 0 int, 1 l, 2 ll */
    if (*f == 'h') length = (*++f == 'h') ? (f++, -2) : -1;
    else if (*f == 'l') length = (*++f == 'l') ? (f++, 2) : 1;
    else if (*f == 'z') f++, length = 1; /* size_t is unsigned long on i386 */
    char conv = *f ? *f++ : 0;
    switch (conv) {
      case 'd':
      case 'i': {
        int64_t v = length == 2 ? va_arg(ap, long long) : length == 1 ? va_arg(ap, long) : va_arg(ap, int);
        if (length == -1) v = (short)v;
        if (length == -2) v = (signed char)v;
        put_number(s, &sp, v < 0 ? -(uint64_t)v : (uint64_t)v, v < 0, 10, false, NULL);
        break;
      }
      case 'u':
      case 'x':
      case 'X':
      case 'o': {
        uint64_t v = length == 2   ? va_arg(ap, unsigned long long)
                     : length == 1 ? va_arg(ap, unsigned long)
                                   : va_arg(ap, unsigned int);
        if (length == -1) v = (unsigned short)v;
        if (length == -2) v = (unsigned char)v;
        unsigned base = conv == 'u' ? 10 : conv == 'o' ? 8 : 16;
        const char *alt = !sp.alt ? NULL : conv == 'o' ? "0" : conv == 'x' ? "0x" : conv == 'X' ? "0X" : NULL;
        if (v == 0) alt = NULL; /* C11 7.21.6.1p6: '#' adds nothing to a zero */
        sp.sign = 0;
        put_number(s, &sp, v, false, base, conv == 'X', alt);
        break;
      }
      case 'p': {
        sp.sign = 0;
        sp.alt = true;
        put_number(s, &sp, (uintptr_t)va_arg(ap, void *), false, 16, false, "0x");
        break;
      }
      case 'c': {
        char c = (char)va_arg(ap, int);
        put_field(s, &sp, "", 0, &c, 1);
        break;
      }
      case 's': {
        const char *str = va_arg(ap, const char *);
        if (!str) str = "(null)";
        int len = 0;
        while (str[len] && (sp.precision < 0 || len < sp.precision)) len++;
        put_field(s, &sp, "", 0, str, len);
        break;
      }
      case '%':
        put(s, '%');
        break;
      default: /* unknown conversion: print it as it was written */
        while (start < f) put(s, *start++);
        break;
    }
  }
  va_end(ap);
}

int vdprintf(int fd, const char *fmt, va_list ap) {
  char buf[FD_BUFFER];
  struct sink s = {buf, sizeof buf, 0, fd, 0, false};
  format(&s, fmt, ap);
  flush(&s);
  return s.failed ? -1 : s.total;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
  struct sink s = {buf, size, 0, -1, 0, false};
  format(&s, fmt, ap);
  if (size) buf[s.len] = 0;
  return s.total;
}

int dprintf(int fd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vdprintf(fd, fmt, ap);
  va_end(ap);
  return r;
}

int printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vdprintf(STDOUT_FILENO, fmt, ap);
  va_end(ap);
  return r;
}

int snprintf(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return r;
}

/* puts: the string and its newline in one write, as printf("%s\n"). */
int puts(const char *s) { return dprintf(STDOUT_FILENO, "%s\n", s) < 0 ? EOF : 1; }

int putchar(int c) {
  unsigned char b = (unsigned char)c;
  return write(STDOUT_FILENO, &b, 1) == 1 ? b : EOF;
}
