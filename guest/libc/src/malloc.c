/* The heap: malloc, free, calloc, realloc on top of sbrk.
 *
 * Layout. The heap is one run of blocks laid end to end, starting at the
 * first break this code obtained. Every block starts with an 8-byte header:
 *
 *   size       bytes in the block, header included; a multiple of 8, so
 *              bit 0 is free for the "in use" flag
 *   prev_size  size of the block just before (0 for the first), so free()
 *              can find its left neighbour and merge with it
 *
 * The payload follows the header, so with 8-aligned blocks every pointer
 * malloc returns is 8-byte aligned. The last header is an end marker of
 * size 0 marked in use; growing the heap turns the marker into a free block
 * and writes a new marker at the new end.
 *
 * malloc is first fit: walk the blocks from the start, take the first free
 * one large enough, split off the rest when it can hold a block of its own.
 * free merges the block with free neighbours on both sides, so the heap
 * never holds two free blocks in a row. Walking every block is O(n), which
 * is fine for the small programs this libc serves and easy to follow.
 *
 * If someone else moved the break in between (a program calling sbrk), the
 * new memory does not follow the heap; the old end marker then becomes an
 * in-use block covering the foreign gap, which is never freed. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct block {
  uint32_t size;      /* whole block in bytes, header included; bit 0 = in use */
  uint32_t prev_size; /* size of the previous block, 0 for the first */
};

#define HEADER ((uint32_t)sizeof(struct block))
#define IN_USE 1u
#define MIN_GROW (64u * 1024u) /* grow by at least this much: fewer brk calls */

static struct block *heap_first; /* first block, NULL before the first malloc */
static struct block *heap_end;   /* the end marker */

static uint32_t size_of(const struct block *b) { return b->size & ~IN_USE; }
static struct block *next_of(struct block *b) { return (struct block *)((char *)b + size_of(b)); }
static struct block *prev_of(struct block *b) { return (struct block *)((char *)b - b->prev_size); }
static int is_free(const struct block *b) { return !(b->size & IN_USE); }

/* Sets b's size and tells the following block about it. */
static void set_size(struct block *b, uint32_t size, uint32_t in_use) {
  b->size = size | in_use;
  next_of(b)->prev_size = size;
}

/* Adds a free block of at least `need` bytes at the end of the heap (merged
 * with a free last block). Returns 0, or -1 when the break cannot move. */
static int grow(uint32_t need) {
  /* + HEADER: room for the new end marker when the memory is not contiguous */
  uint32_t amount = (need < MIN_GROW ? MIN_GROW : need) + HEADER;
  if (!heap_first) {
    /* Align the start of the heap to 8 bytes; the first marker goes there. */
    char *brk_now = sbrk(0);
    if (brk_now == (char *)-1) return -1;
    uint32_t pad = (uint32_t)(-(uintptr_t)brk_now & 7);
    char *start = sbrk((intptr_t)(pad + HEADER));
    if (start == (char *)-1) return -1;
    heap_first = heap_end = (struct block *)(start + pad);
    heap_end->size = 0 | IN_USE;
    heap_end->prev_size = 0;
  }
  char *more = sbrk((intptr_t)amount);
  if (more == (char *)-1) return -1;
  struct block *b = heap_end; /* becomes the new free block */
  uint32_t free_size = amount;
  if (more != (char *)heap_end + HEADER) {
    /* Someone else moved the break: the old marker becomes an in-use block
     * spanning the foreign bytes, and the free block starts at `more`
     * (aligned), leaving HEADER bytes at the end for the new marker. */
    uint32_t pad = (uint32_t)(-(uintptr_t)more & 7);
    if (pad && sbrk((intptr_t)pad) == (char *)-1) return -1;
    char *start = more + pad;
    set_size(heap_end, (uint32_t)(start - (char *)heap_end), IN_USE);
    b = (struct block *)start;
    free_size = amount - HEADER;
  }
  heap_end = (struct block *)((char *)b + free_size);
  heap_end->size = 0 | IN_USE;
  set_size(b, free_size, 0);
  if (b != heap_first && is_free(prev_of(b))) {
    struct block *p = prev_of(b);
    set_size(p, size_of(p) + free_size, 0);
  }
  return 0;
}

/* Marks b in use for `size` bytes, splitting off the tail as a free block
 * when it is large enough to be one (header + 8 bytes). */
static void take(struct block *b, uint32_t size) {
  uint32_t total = size_of(b);
  if (total - size >= HEADER + 8) {
    set_size(b, size, IN_USE);
    struct block *rest = next_of(b);
    rest->prev_size = size;
    set_size(rest, total - size, 0);
  } else {
    set_size(b, total, IN_USE);
  }
}

/* The block size for a request: header + payload rounded up to 8; 0 when
 * the request is too large to represent. */
static uint32_t block_size(size_t n) {
  if (n > 0x7fff0000u) return 0;
  return (uint32_t)((n + HEADER + 7u) & ~7u);
}

void *malloc(size_t n) {
  uint32_t size = block_size(n ? n : 1);
  if (!size) {
    errno = ENOMEM;
    return NULL;
  }
  for (int attempt = 0; attempt < 2; attempt++) {
    if (heap_first) {
      for (struct block *b = heap_first; b != heap_end; b = next_of(b)) {
        if (is_free(b) && size_of(b) >= size) {
          take(b, size);
          return b + 1;
        }
      }
    }
    if (attempt == 0 && grow(size) < 0) break;
  }
  errno = ENOMEM;
  return NULL;
}

void free(void *p) {
  if (!p) return;
  struct block *b = (struct block *)p - 1;
  uint32_t size = size_of(b);
  b->size = size; /* clear IN_USE */
  struct block *next = next_of(b);
  if (next != heap_end && is_free(next)) set_size(b, size + size_of(next), 0);
  if (b != heap_first && is_free(prev_of(b))) {
    struct block *prev = prev_of(b);
    set_size(prev, size_of(prev) + size_of(b), 0);
  }
}

void *calloc(size_t count, size_t size) {
  if (size && count > (size_t)-1 / size) {
    errno = ENOMEM;
    return NULL;
  }
  void *p = malloc(count * size);
  if (p) memset(p, 0, count * size);
  return p;
}

/* Shrinks or keeps the block in place when it is large enough; otherwise
 * moves the data to a new block. */
void *realloc(void *p, size_t n) {
  if (!p) return malloc(n);
  if (n == 0) {
    free(p);
    return NULL;
  }
  struct block *b = (struct block *)p - 1;
  uint32_t size = block_size(n);
  if (size && size <= size_of(b)) {
    take(b, size);
    /* A freed tail may sit next to a free block: merge them. */
    struct block *rest = next_of(b);
    if (rest != heap_end && is_free(rest)) free(rest + 1);
    return p;
  }
  void *q = malloc(n);
  if (!q) return NULL;
  memcpy(q, p, size_of(b) - HEADER);
  free(p);
  return q;
}
