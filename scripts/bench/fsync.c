// fsync latency: N times, write 4 KiB at the end of a file and fsync it; prints the latency percentiles.
// Usage: fsync DIR N   ->   "fsync n=N p50_us=… p90_us=… p99_us=… max_us=… mean_us=…"
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s DIR N\n", argv[0]); return 2; }
    int n = atoi(argv[2]);
    char path[4096];
    snprintf(path, sizeof path, "%s/fsync-bench", argv[1]);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0) { perror(path); return 1; }
    char buf[4096];
    memset(buf, 'x', sizeof buf);
    double *lat = malloc(sizeof(double) * n), sum = 0;
    for (int i = 0; i < n; i++) {
        struct timespec a, b;
        buf[0] = (char)i;
        clock_gettime(CLOCK_MONOTONIC, &a);
        if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf) { perror("write"); return 1; }
        if (fsync(fd) != 0) { perror("fsync"); return 1; }
        clock_gettime(CLOCK_MONOTONIC, &b);
        lat[i] = (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3;
        sum += lat[i];
    }
    close(fd);
    unlink(path);
    qsort(lat, n, sizeof(double), cmp);
    printf("fsync n=%d p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f mean_us=%.0f\n", n, lat[n / 2], lat[n * 90 / 100],
           lat[n * 99 / 100], lat[n - 1], sum / n);
    return 0;
}
