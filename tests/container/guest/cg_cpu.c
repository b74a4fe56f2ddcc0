/* The cgroup v2 cpu controller observed from inside (cgroup-v2.rst "CPU",
 * sched-bwc.rst; SEMANTICS.md §2.2, checklist items 13 and 14).
 *   cg_cpu files      defaults, formats and errors of cpu.max, cpu.weight,
 *                     cpu.weight.nice and cpu.stat (item 14)
 *   cg_cpu spin MS    puts itself under cpu.max "50000 100000" and reads the
 *                     clock in a tight loop for MS ms: the gaps in the
 *                     readings are the throttled stretches (item 13)
 *   cg_cpu nap MS     sleeps MS ms, then burns the CPU until it is killed
 *                     (item 15: an idle sibling, then a busy one again)
 * Each check prints "ok ..." / "FAIL ..."; the program ends with
 * "N failures" and exits with N. Like cg_v2, only container-sim runs it:
 * on a Linux host it would need root and change the host's hierarchy. */
#include "cg_common.h"




/* The number after "key " in `text` (cpu.stat's format), or -1. */
static long stat_field(const char *text, const char *key) {
  const size_t len = strlen(key);
  for (const char *at = text; *at; ++at) {
    if ((at == text || at[-1] == '\n') && strncmp(at, key, len) == 0 && at[len] == ' ') return atoi(at + len + 1);
  }
  return -1;
}

static int setup(void) {
  if (sys(NR_mount, (long)"none", (long)CG, (long)"cgroup2", 0, 0) != 0) {
    printf("skip: cannot mount cgroup2\n");
    return 77;
  }
  return 0;
}

static void t_files(void) {
  check("mkdir " CG "/q", sys(NR_mkdir, (long)CG "/q", 0755, 0, 0, 0) == 0);
  check("no cpu.max in q before the root enables cpu", put(CG "/q/cpu.max", "50000") == -ENOENT);
  const char *st = get(CG "/q/cpu.stat");
  check("cpu.stat exists with cpu off: usage_usec, user_usec, system_usec",
        stat_field(st, "usage_usec") >= 0 && stat_field(st, "user_usec") >= 0 && stat_field(st, "system_usec") == 0);
  check("... and no bandwidth figures", stat_field(st, "nr_periods") == -1);
  check("no cpu.stat or cpu.max at the root", put(CG "/cpu.max", "max") == -ENOENT && is(CG "/cpu.stat", ""));
  check("+cpu in the root's cgroup.subtree_control", put(CG "/cgroup.subtree_control", "+cpu") == 0);
  check("cpu.max defaults to \"max 100000\"", is(CG "/q/cpu.max", "max 100000\n"));
  check("cpu.weight defaults to 100", is(CG "/q/cpu.weight", "100\n"));
  check("cpu.weight.nice defaults to 0", is(CG "/q/cpu.weight.nice", "0\n"));
  st = get(CG "/q/cpu.stat");
  check("cpu.stat now has nr_periods, nr_throttled, throttled_usec (all 0)",
        stat_field(st, "nr_periods") == 0 && stat_field(st, "nr_throttled") == 0 &&
            stat_field(st, "throttled_usec") == 0);
  check("cpu.stat is read-only (EACCES)", put(CG "/q/cpu.stat", "0") == -EACCES);

  /* cpu.max: "$MAX $PERIOD"; one number sets MAX only. */
  check("cpu.max \"50000 100000\"", put(CG "/q/cpu.max", "50000 100000") == 0 && is(CG "/q/cpu.max", "50000 100000\n"));
  check("cpu.max \"20000 50000\"", put(CG "/q/cpu.max", "20000 50000\n") == 0 && is(CG "/q/cpu.max", "20000 50000\n"));
  check("one number changes the quota only",
        put(CG "/q/cpu.max", "30000") == 0 && is(CG "/q/cpu.max", "30000 50000\n"));
  check("\"max\" alone keeps the period", put(CG "/q/cpu.max", "max") == 0 && is(CG "/q/cpu.max", "max 50000\n"));
  check("quota 1000 (1 ms, the minimum) works", put(CG "/q/cpu.max", "1000 100000") == 0);
  check("period 1000000 (1 s, the maximum) works", put(CG "/q/cpu.max", "1000 1000000") == 0);
  check("quota 999: EINVAL", put(CG "/q/cpu.max", "999 100000") == -EINVAL);
  check("period 999: EINVAL", put(CG "/q/cpu.max", "1000 999") == -EINVAL);
  check("period 1000001: EINVAL", put(CG "/q/cpu.max", "1000 1000001") == -EINVAL);
  check("\"max 0\": EINVAL", put(CG "/q/cpu.max", "max 0") == -EINVAL);
  check("\"abc\": EINVAL", put(CG "/q/cpu.max", "abc") == -EINVAL);
  check("\"-5\": EINVAL", put(CG "/q/cpu.max", "-5") == -EINVAL);
  check("blank: EINVAL", put(CG "/q/cpu.max", " \n") == -EINVAL);
  check("a refused write changes nothing", is(CG "/q/cpu.max", "1000 1000000\n"));
  check("a quota above the period is fine (more than one CPU's worth)",
        put(CG "/q/cpu.max", "200000 100000") == 0 && is(CG "/q/cpu.max", "200000 100000\n"));

  /* cpu.weight: [1, 10000], ERANGE outside; cpu.weight.nice: [-20, 19]. */
  check("cpu.weight 0: ERANGE", put(CG "/q/cpu.weight", "0") == -ERANGE);
  check("cpu.weight 10001: ERANGE", put(CG "/q/cpu.weight", "10001") == -ERANGE);
  check("cpu.weight \"abc\": EINVAL", put(CG "/q/cpu.weight", "abc") == -EINVAL);
  check("cpu.weight -1: EINVAL", put(CG "/q/cpu.weight", "-1") == -EINVAL);
  check("cpu.weight 1", put(CG "/q/cpu.weight", "1") == 0 && is(CG "/q/cpu.weight", "1\n"));
  check("cpu.weight 10000", put(CG "/q/cpu.weight", "10000") == 0 && is(CG "/q/cpu.weight", "10000\n"));
  check("cpu.weight 200 reads back 200", put(CG "/q/cpu.weight", "200") == 0 && is(CG "/q/cpu.weight", "200\n"));
  check("cpu.weight.nice -21: ERANGE", put(CG "/q/cpu.weight.nice", "-21") == -ERANGE);
  check("cpu.weight.nice 20: ERANGE", put(CG "/q/cpu.weight.nice", "20") == -ERANGE);
  check("cpu.weight.nice -5 is cpu.weight 305", put(CG "/q/cpu.weight.nice", "-5") == 0 &&
                                                    is(CG "/q/cpu.weight", "305\n") &&
                                                    is(CG "/q/cpu.weight.nice", "-5\n"));
  check("cpu.weight 100 is nice 0", put(CG "/q/cpu.weight", "100") == 0 && is(CG "/q/cpu.weight.nice", "0\n"));
}

static long long clock_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void t_spin(long ms) {
  check("mkdir " CG "/q", sys(NR_mkdir, (long)CG "/q", 0755, 0, 0, 0) == 0);
  check("+cpu", put(CG "/cgroup.subtree_control", "+cpu") == 0);
  check("cpu.max \"50000 100000\"", put(CG "/q/cpu.max", "50000 100000") == 0);
  check("into q", put(CG "/q/cgroup.procs", "0") == 0);
  /* A gap is a stretch of more than 1 ms between two readings of the clock
   * (the loop reads it every few hundred ns while it runs). */
  const long long start = clock_ns(), end = start + ms * 1000000LL;
  long long last = start, run_from = start, gap_min = -1, gap_max = 0, run_min = -1, run_max = 0;
  int gaps = 0;
  for (long long t = start; t < end; last = t) {
    t = clock_ns();
    if (t - last <= 1000000) continue;
    const long long gap = t - last, run = last - run_from;
    if (gap_min < 0 || gap < gap_min) gap_min = gap;
    if (gap > gap_max) gap_max = gap;
    if (gaps > 0 && (run_min < 0 || run < run_min)) run_min = run; /* the first run started mid-period */
    if (gaps > 0 && run > run_max) run_max = run;
    run_from = t;
    gaps++;
  }
  const long long elapsed = clock_ns() - start;
  const char *st = get(CG "/q/cpu.stat");
  const long usage = stat_field(st, "usage_usec"), periods = stat_field(st, "nr_periods");
  const long throttled = stat_field(st, "nr_throttled"), throttled_us = stat_field(st, "throttled_usec");
  printf("elapsed %lld us, %d gaps of %lld..%lld us, runs of %lld..%lld us between\n", elapsed / 1000, gaps,
         gap_min / 1000, gap_max / 1000, run_min / 1000, run_max / 1000);
  printf("%s", st);
  check("the loop stops about once per period", gaps >= ms / 100 - 1 && gaps <= ms / 100 + 1);
  check("each stop lasts 50 ms, to the next period boundary", gap_min >= 49900000 && gap_max <= 50100000);
  check("each run between stops is 50 ms (the quota)", gaps < 3 || (run_min >= 49900000 && run_max <= 50100000));
  check("usage_usec is about half the elapsed time",
        usage * 1000LL >= elapsed * 45 / 100 && usage * 1000LL <= elapsed * 55 / 100);
  check("nr_throttled is about nr_periods",
        throttled >= periods - 1 && throttled <= periods && periods >= ms / 100 - 1);
  check("throttled_usec is about the time stopped", throttled_us >= (long)(gaps - 1) * 49900 &&
                                                        throttled_us <= (long)gaps * 50100);
}

static void t_nap(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, 0);
  for (volatile unsigned x = 0;; x++) {
  }
}

int main(int argc, char **argv) {
  const char *sub = argc > 1 ? argv[1] : "";
  const long arg = argc > 2 ? atoi(argv[2]) : 1000;
  if (!strcmp(sub, "nap")) t_nap(arg);
  if (setup()) return 77;
  if (!strcmp(sub, "files")) {
    t_files();
  } else if (!strcmp(sub, "spin")) {
    t_spin(arg);
  } else {
    printf("usage: cg_cpu files | spin MS | nap MS\n");
    return 2;
  }
  printf("%d failures\n", failures);
  return failures;
}
