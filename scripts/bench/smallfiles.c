/*
 * Small-file metadata benchmark: create, stat and remove N files of SIZE bytes spread over D directories under
 * ROOT. Prints one line per phase: "<phase> <files> <seconds> <files/s>". Part of `make bench`.
 * Usage: smallfiles ROOT FILES DIRS SIZE
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

static void die(const char *what, const char *path) {
  fprintf(stderr, "smallfiles: %s %s: %s\n", what, path, strerror(errno));
  exit(1);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: smallfiles ROOT FILES DIRS SIZE\n");
    return 2;
  }
  const char *root = argv[1];
  long files = atol(argv[2]), dirs = atol(argv[3]), size = atol(argv[4]);
  char *buf = malloc(size > 0 ? size : 1);
  memset(buf, 'x', size > 0 ? size : 1);
  char path[4096];

  double t0 = now();
  for (long d = 0; d < dirs; d++) {
    snprintf(path, sizeof path, "%s/d%04ld", root, d);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) die("mkdir", path);
  }
  for (long i = 0; i < files; i++) {
    snprintf(path, sizeof path, "%s/d%04ld/f%07ld", root, i % dirs, i);
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0) die("create", path);
    if (size > 0 && write(fd, buf, size) != size) die("write", path);
    if (close(fd) != 0) die("close", path);
  }
  double t1 = now();
  printf("create %ld %.3f %.0f\n", files, t1 - t0, files / (t1 - t0));

  struct stat st;
  for (long i = 0; i < files; i++) {
    snprintf(path, sizeof path, "%s/d%04ld/f%07ld", root, i % dirs, i);
    if (stat(path, &st) != 0) die("stat", path);
    if (st.st_size != size) { fprintf(stderr, "smallfiles: %s has size %ld, expected %ld\n", path, (long)st.st_size, size); return 1; }
  }
  double t2 = now();
  printf("stat %ld %.3f %.0f\n", files, t2 - t1, files / (t2 - t1));

  for (long i = 0; i < files; i++) {
    snprintf(path, sizeof path, "%s/d%04ld/f%07ld", root, i % dirs, i);
    if (unlink(path) != 0) die("unlink", path);
  }
  for (long d = 0; d < dirs; d++) {
    snprintf(path, sizeof path, "%s/d%04ld", root, d);
    if (rmdir(path) != 0) die("rmdir", path);
  }
  double t3 = now();
  printf("remove %ld %.3f %.0f\n", files, t3 - t2, files / (t3 - t2));
  free(buf);
  return 0;
}
