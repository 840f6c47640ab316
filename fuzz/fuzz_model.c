/*
 * fuzz_model.c - model files and training checkpoints (safetensors with a JSON
 * header and the config in its metadata).
 *
 * The input is a whole file. It is parsed in memory first (made__st_parse, which
 * runs made__json_parse on the header, then made__model_read, the body of
 * made_model_load); a file whose container is valid is also written to a temp
 * file and loaded through the public path API (made_model_load, and
 * made_trainer_resume for "made-checkpoint" files), which must agree with the
 * in-memory result. A model that loads is then used: forward, log_prob, both
 * samplers (which must agree bit for bit) and, for a checkpoint, one training
 * step, so that a loader that accepts an inconsistent model shows up as a crash.
 *
 * Two input forms, so that mutations of the JSON header are not wasted on a
 * header length that no longer matches:
 *   raw      the file as it is (anything not starting with '{');
 *   header   "{...JSON header...}" NUL data-section: the target prepends the
 *            8-byte length itself. (A raw file whose length's low byte is '{'
 *            is read this way too; either way it is a file to test.)
 * The seed corpus has both forms of every file (fuzz/seeds.c).
 */
#include <string.h>

#include "core/internal.h"
#include "fuzz.h"
#include "io/safetensors.h"
#include "net/model.h"

#define ROWS 2

/* Runs the model on ROWS rows of zeros (valid data for every distribution). */
static void exercise(made_model *m)
{
    const made_config *cfg = made_model_config(m);
    size_t e = (size_t)cfg->event_size, p = (size_t)cfg->params, c = (size_t)cfg->conditional_size;
    float *x = calloc(ROWS * e, sizeof *x), *x2 = calloc(ROWS * e, sizeof *x2);
    float *y = calloc(ROWS * e * p, sizeof *y);
    float *cond = c ? calloc(ROWS * c, sizeof *cond) : NULL;
    double lp[ROWS];
    FUZZ_CHECK(x && x2 && y && (cond || !c));

    int rc = made_model_forward(m, y, x, cond, ROWS);
    FUZZ_CHECK(rc == MADE_OK || rc == MADE_E_NONFINITE);
    if (cfg->dist.kind != MADE_DIST_NONE) {
        FUZZ_CHECK(made_model_check_data(m, x, ROWS) == MADE_OK);
        rc = made_model_log_prob(m, lp, x, cond, ROWS);
        FUZZ_CHECK(rc == MADE_OK || rc == MADE_E_NONFINITE);
        int a = made_model_sample(m, x, cond, ROWS, 7);
        int b = made_model_sample_naive(m, x2, cond, ROWS, 7);
        FUZZ_CHECK(a == b);
        if (a == MADE_OK) FUZZ_CHECK(memcmp(x, x2, ROWS * e * sizeof *x) == 0);
    }
    free(x);
    free(x2);
    free(y);
    free(cond);
}

static void exercise_trainer(made_trainer *t, made_model *m)
{
    const made_config *cfg = made_model_config(m);
    size_t e = (size_t)cfg->event_size, c = (size_t)cfg->conditional_size;
    float *x = calloc(ROWS * e, sizeof *x);
    float *cond = c ? calloc(ROWS * c, sizeof *cond) : NULL;
    FUZZ_CHECK(x && (cond || !c));
    double nll;
    int rc = made_trainer_step(t, x, cond, ROWS, &nll);
    FUZZ_CHECK(rc == MADE_OK || rc == MADE_E_NONFINITE);
    free(x);
    free(cond);
}

static void test_file(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || data[0] != '{') {
        test_file(data, size);
        return 0;
    }
    const uint8_t *nul = memchr(data, 0, size);
    size_t hlen = nul ? (size_t)(nul - data) : size, rest = nul ? size - hlen - 1 : 0;
    uint8_t *file = malloc(8 + hlen + rest);
    FUZZ_CHECK(file != NULL);
    for (int i = 0; i < 8; i++) file[i] = (uint8_t)((uint64_t)hlen >> (8 * i));
    memcpy(file + 8, data, hlen);
    if (rest) memcpy(file + 8 + hlen, nul + 1, rest);
    test_file(file, 8 + hlen + rest);
    free(file);
    return 0;
}

static void test_file(const uint8_t *data, size_t size)
{
    made__st_file f;
    int rc = made__st_parse(&f, data, size);
    FUZZ_CHECK(rc == MADE_OK || rc == MADE_E_FORMAT || rc == MADE_E_NOMEM);
    if (rc != MADE_OK) return;
    for (size_t i = 0; i < f.count; i++) {
        /* Validation promised every tensor lies inside the file. */
        const made__st_tensor *t = &f.tensors[i];
        FUZZ_CHECK(t->data >= f.bytes && t->nbytes <= f.size);
        FUZZ_CHECK((size_t)(t->data - f.bytes) <= f.size - t->nbytes);
        FUZZ_CHECK(made__st_find(&f, t->name) != NULL);
    }
    const char *format = made__st_meta(&f, "format");
    int checkpoint = format && strcmp(format, "made-checkpoint") == 0;

    made_model *m = NULL;
    rc = made__model_read(&f, "made", 0, &m);
    FUZZ_CHECK(rc == MADE_OK || rc == MADE_E_FORMAT || rc == MADE_E_NOMEM);
    FUZZ_CHECK((rc == MADE_OK) == (m != NULL));
    made__st_free(&f);

    const char *path = fuzz_tmp_write(data, size);
    made_model *m2 = NULL;
    int rc2 = made_model_load(&m2, path);
    FUZZ_CHECK(rc2 == rc);
    made_model_free(m2);
    if (m) exercise(m);
    made_model_free(m);

    if (checkpoint) {
        made_trainer *t = NULL;
        rc = made_trainer_resume(&t, &m, path);
        FUZZ_CHECK(rc == MADE_OK || rc == MADE_E_FORMAT || rc == MADE_E_NOMEM);
        FUZZ_CHECK((rc == MADE_OK) == (t != NULL && m != NULL));
        if (t) {
            exercise_trainer(t, m);
            exercise(m);
        }
        made_trainer_free(t);
        made_model_free(m);
    }
    fuzz_tmp_remove();
}
