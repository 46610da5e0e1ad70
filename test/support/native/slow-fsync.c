/*
 * A slow disk for tests (test/reliability/slow-disk.test.ts): loaded with LD_PRELOAD into a server process,
 * it makes every fsync and fdatasync wait PONY_SLOW_FSYNC_MS milliseconds before doing the real one.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static void slow_down(void) {
  const char *v = getenv("PONY_SLOW_FSYNC_MS");
  long ms = v ? atol(v) : 0;
  if (ms > 0) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
  }
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  slow_down();
  return real(fd);
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  slow_down();
  return real(fd);
}
