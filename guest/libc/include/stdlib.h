/* stdlib.h: number parsing, the heap, and leaving the process. */
#ifndef VS_STDLIB_H
#define VS_STDLIB_H

#include <stddef.h>

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1

int atoi(const char *s);
long strtol(const char *s, char **end, int base);
unsigned long strtoul(const char *s, char **end, int base);

void *malloc(size_t size);
void free(void *p);
void *calloc(size_t count, size_t size);
void *realloc(void *p, size_t size);

/* No atexit and no stdio buffers, so exit is _exit. */
_Noreturn void exit(int status);
_Noreturn void abort(void);

#endif
