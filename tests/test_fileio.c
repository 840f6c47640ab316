/*
 * test_fileio.c - where writes go (made_output_check and the atomic writer on
 * special files) and what readers say about files that are something else.
 * The FIFO and device cases through the CLI are in tests/cli/cli_outputs.sh.
 */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "made.h"

static char tmpdir[] = "/tmp/made_test_fileio_XXXXXX";

static const char *tmp(const char *name)
{
    static char buf[4][512];
    static int which;
    which = (which + 1) % 4;
    snprintf(buf[which], sizeof buf[which], "%s/%s", tmpdir, name);
    return buf[which];
}

/* The number of entries in dir (without . and ..): no temp file left behind. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    if (d) closedir(d);
    return n;
}

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(b, 1, n, f) == n);
    if (f) fclose(f);
}

static void test_output_check(void)
{
    int before = count_entries(tmpdir);
    CHECK_OK(made_output_check(tmp("new.npy")));
    CHECK_EQ_INT(count_entries(tmpdir), before); /* the probe file is gone */
    CHECK_OK(made_output_check("-"));
    CHECK_STATUS(made_output_check(tmp("missing/x.npy")), MADE_E_IO);
    CHECK_STR_CONTAINS(made_last_error(), "the directory does not exist");
    CHECK_STR_CONTAINS(made_last_error(), "missing/x.npy");
    CHECK_STATUS(made_output_check(tmpdir), MADE_E_IO);
    CHECK_STR_CONTAINS(made_last_error(), "is a directory");
    CHECK_STATUS(made_output_check(""), MADE_E_INVAL);
}

static void test_symlink_target_replaced(void)
{
    size_t shape[2] = {2, 3};
    made_array a, b;
    CHECK_OK(made_array_alloc(&a, 2, shape));
    for (int i = 0; i < 6; i++) a.data[i] = (float)i;
    CHECK_OK(made_npy_write(&a, tmp("target.npy")));
    CHECK(symlink("target.npy", tmp("link.npy")) == 0);
    a.data[0] = 42;
    CHECK_OK(made_npy_write(&a, tmp("link.npy")));
    struct stat st;
    CHECK(lstat(tmp("link.npy"), &st) == 0 && S_ISLNK(st.st_mode));
    CHECK_OK(made_npy_read(&b, tmp("target.npy")));
    CHECK(b.data && b.data[0] == 42.0f);
    made_array_free(&b);
    /* A link to a file that does not exist yet: the file is created there. */
    CHECK(symlink("created.npy", tmp("link2.npy")) == 0);
    CHECK_OK(made_npy_write(&a, tmp("link2.npy")));
    CHECK(lstat(tmp("link2.npy"), &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(stat(tmp("created.npy"), &st) == 0 && S_ISREG(st.st_mode));
    made_array_free(&a);
}

static void test_fifo_written_in_place(void)
{
    CHECK(mkfifo(tmp("fifo"), 0600) == 0);
    /* A FIFO opened for writing waits for a reader: open one first, non-blocking. */
    FILE *r = fopen(tmp("fifo"), "r+"); /* O_RDWR on a FIFO never blocks on Linux */
    CHECK(r != NULL);
    size_t shape[1] = {3};
    made_array a;
    CHECK_OK(made_array_alloc(&a, 1, shape));
    CHECK_OK(made_csv_write(&a, tmp("fifo")));
    char line[64] = "";
    CHECK(r && fgets(line, sizeof line, r) != NULL);
    CHECK_STR_CONTAINS(line, "0,0,0");
    struct stat st;
    CHECK(lstat(tmp("fifo"), &st) == 0 && S_ISFIFO(st.st_mode));
    if (r) fclose(r);
    made_array_free(&a);
}

static void test_directory_refused(void)
{
    CHECK(mkdir(tmp("dir.npy"), 0700) == 0);
    size_t shape[1] = {3};
    made_array a;
    CHECK_OK(made_array_alloc(&a, 1, shape));
    CHECK_STATUS(made_npy_write(&a, tmp("dir.npy")), MADE_E_IO);
    CHECK_STR_CONTAINS(made_last_error(), "is a directory");
    struct stat st;
    CHECK(stat(tmp("dir.npy"), &st) == 0 && S_ISDIR(st.st_mode));
    made_array_free(&a);
}

static void test_files_named_by_content(void)
{
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0};
    write_bytes(tmp("image.csv"), png, sizeof png);
    made_array a;
    CHECK_STATUS(made_data_read(&a, tmp("image.csv")), MADE_E_UNSUPPORTED);
    CHECK_STR_CONTAINS(made_last_error(), "a PNG image, not a data file");
    write_bytes(tmp("j.csv"), " {\"a\": 1}\n", 10);
    CHECK_STATUS(made_data_read(&a, tmp("j.csv")), MADE_E_UNSUPPORTED);
    CHECK_STR_CONTAINS(made_last_error(), "JSON text");
    write_bytes(tmp("bin.csv"), "ab\0cd", 5);
    CHECK_STATUS(made_data_read(&a, tmp("bin.csv")), MADE_E_FORMAT);
    CHECK_STR_CONTAINS(made_last_error(), "binary content");

    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = 3;
    made_model *m;
    CHECK_OK(made_model_create(&m, &cfg));
    CHECK_OK(made_model_save(m, tmp("m.safetensors")));
    made_model_free(m);
    CHECK_STATUS(made_data_read(&a, tmp("m.safetensors")), MADE_E_UNSUPPORTED);
    CHECK_STR_CONTAINS(made_last_error(), "a made model, not a data file");

    size_t shape[1] = {3};
    CHECK_OK(made_array_alloc(&a, 1, shape));
    CHECK_OK(made_npy_write(&a, tmp("x.npy")));
    made_array_free(&a);
    CHECK_STATUS(made_model_load(&m, tmp("x.npy")), MADE_E_FORMAT);
    CHECK_STR_CONTAINS(made_last_error(), "x.npy is a .npy file, not a made model");
    write_bytes(tmp("d.csv"), "1,0,1\n", 6);
    CHECK_STATUS(made_model_load(&m, tmp("d.csv")), MADE_E_FORMAT);
    CHECK_STR_CONTAINS(made_last_error(), "d.csv is text (CSV?), not a made model");
}

static void cleanup(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[1024];
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (rmdir(path) != 0) unlink(path);
    }
    if (d) closedir(d);
    rmdir(dir);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_output_check);
    RUN(test_symlink_target_replaced);
    RUN(test_fifo_written_in_place);
    RUN(test_directory_refused);
    RUN(test_files_named_by_content);
    cleanup(tmpdir);
    return harness_summary("test_fileio");
}
