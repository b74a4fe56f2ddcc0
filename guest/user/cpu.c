/* cpu N: pure integer computation, no system calls in the loop. Each
 * iteration advances a xorshift32 generator (Marsaglia, "Xorshift RNGs",
 * 2003: shifts 13, 17, 5) and folds it into an accumulator with a multiply
 * by the 32-bit golden-ratio constant and a rotate. The checksum depends on
 * every iteration, so no compiler can skip the work, and it is the same on
 * every CPU that executes IA-32 integer instructions correctly. */
#include "workload.h"

static uint32_t rotl32(uint32_t v, unsigned r) { return (v << r) | (v >> (32 - r)); }

int main(int argc, char **argv) {
  uint32_t n = workload_count(argc, argv, "cpu", 1000000000u);
  uint32_t x = 0x2545f491u, acc = 0;
  for (uint32_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    acc = rotl32(acc ^ (x * 0x9e3779b1u), 7) + i;
  }
  printf("cpu: %u iterations, checksum 0x%08x\n", n, acc);
  return 0;
}
