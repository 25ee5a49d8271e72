/*
 * Creates FILES empty files under ROOT, PER_DIR to a directory (d000000/f0000…), for the large-volume benchmark.
 * Prints "create <files> <seconds> <files/s>". Usage: mkfiles ROOT FILES PER_DIR
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: mkfiles ROOT FILES PER_DIR\n");
    return 2;
  }
  const char *root = argv[1];
  long files = atol(argv[2]), per_dir = atol(argv[3]);
  if (files <= 0 || per_dir <= 0) {
    fprintf(stderr, "mkfiles: FILES and PER_DIR must be positive\n");
    return 2;
  }
  char path[4096];
  double start = now();
  for (long i = 0; i < files; i++) {
    if (i % per_dir == 0) {
      snprintf(path, sizeof path, "%s/d%06ld", root, i / per_dir);
      if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "mkfiles: mkdir %s: %s\n", path, strerror(errno));
        return 1;
      }
    }
    snprintf(path, sizeof path, "%s/d%06ld/f%04ld", root, i / per_dir, i % per_dir);
    int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0 || close(fd) != 0) {
      fprintf(stderr, "mkfiles: create %s: %s\n", path, strerror(errno));
      return 1;
    }
  }
  double seconds = now() - start;
  printf("create %ld %.2f %.0f\n", files, seconds, files / seconds);
  return 0;
}
