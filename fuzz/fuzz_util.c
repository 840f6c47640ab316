/* fuzz_util.c - temp files for the fuzz targets whose readers take a path. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static char tmp_path[512];
static pid_t tmp_pid; /* the path embeds the pid: libFuzzer's -fork/-jobs children differ */

static const char *tmp_dir(void)
{
    struct stat st;
    if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0)
        return "/dev/shm";
    const char *t = getenv("TMPDIR");
    return t && *t ? t : "/tmp";
}

const char *fuzz_tmp_write(const uint8_t *data, size_t size)
{
    if (tmp_pid != getpid()) {
        tmp_pid = getpid();
        snprintf(tmp_path, sizeof tmp_path, "%s/made-fuzz-%ld", tmp_dir(), (long)tmp_pid);
    }
    int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        fprintf(stderr, "fuzz: cannot create %s: %s\n", tmp_path, strerror(errno));
        abort();
    }
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            fprintf(stderr, "fuzz: cannot write %s: %s\n", tmp_path, strerror(errno));
            abort();
        }
        done += (size_t)n;
    }
    close(fd);
    return tmp_path;
}

void fuzz_tmp_remove(void)
{
    if (tmp_pid == getpid()) unlink(tmp_path);
}
