/*
 * seeds.c - writes the seed corpora of the fuzz targets with made's own writers,
 * so every seed is a file the real code produces (or, for inputs made has no
 * writer for, a file laid out exactly as the format's reference writes it):
 *
 *   model  models saved by made_model_save (plain, conditional on all or the
 *          first layer, explicit order, random order and degrees with several
 *          mask sets, every distribution), checkpoints by made_trainer_save
 *          (Adam and SGD), and bare safetensors files of every dtype
 *   npy    float32 arrays by made_npy_write (fuzz/npy_seeds.py adds numpy's
 *          own files of the other dtypes and versions)
 *   csv    made_csv_write output, and CSV with a header, quotes, CRLF, a BOM
 *   idx    IDX of every element type, plain and gzip (one file of two members)
 *   json   the configs made_config_to_json writes, the safetensors headers of
 *          the models above, and documents with every JSON construct
 *   cli    argument vectors (NUL-separated) of `made init` / `made train`
 *
 *   build-fuzz/seeds fuzz/corpus      (make fuzz-seeds)
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "core/internal.h"
#include "io/fileio.h"
#include "io/safetensors.h"
#include "made.h"

static const char *root;

static const char *path_of(const char *target, const char *name)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s/%s", root, target, name);
    return buf;
}

static void die(const char *what)
{
    fprintf(stderr, "seeds: %s: %s\n", what, made_last_error());
    exit(1);
}

static void put(const char *target, const char *name, const void *data, size_t n)
{
    const char *p = path_of(target, name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "seeds: cannot write %s\n", p);
        exit(1);
    }
}

static void put_text(const char *target, const char *name, const char *text)
{
    put(target, name, text, strlen(text));
}

/* ---- models and checkpoints -------------------------------------------- */

static made_model *model(const char *name, const made_config *cfg)
{
    made_model *m;
    if (made_model_create(&m, cfg)) die(name);
    if (made_model_save(m, path_of("model", name))) die(name);
    /* The config and the safetensors header are JSON seeds too. */
    char json[4096];
    int n = made_config_to_json(cfg, json, sizeof json);
    if (n < 0 || (size_t)n >= sizeof json) die("config json");
    char jname[256];
    int base = (int)(strchr(name, '.') ? strchr(name, '.') - name : (ptrdiff_t)strlen(name));
    snprintf(jname, sizeof jname, "config-%.*s.json", base, name);
    put_text("json", jname, json);
    unsigned char *bytes;
    size_t size;
    if (made__read_file(path_of("model", name), &bytes, &size)) die(name);
    size_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | bytes[i];
    snprintf(jname, sizeof jname, "header-%.*s.json", base, name);
    put("json", jname, bytes + 8, hlen);
    made__free(bytes);
    return m;
}

static void checkpoint(const char *name, made_model *m, made_optimizer opt)
{
    made_train_config tc;
    made_train_config_default(&tc);
    tc.optimizer = opt;
    tc.batch_size = 2;
    made_trainer *t;
    if (made_trainer_create(&t, m, &tc)) die(name);
    const made_config *cfg = made_model_config(m);
    float x[2 * 8] = {0}, c[2 * 8] = {0};
    double nll;
    if (made_trainer_step(t, x, cfg->conditional_size ? c : NULL, 2, &nll)) die(name);
    if (made_trainer_save(t, path_of("model", name))) die(name);
    made_trainer_free(t);
}

static void models(void)
{
    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = 3;
    cfg.params = 2;
    cfg.n_hidden = 1;
    cfg.hidden_units[0] = 4;
    cfg.activation = MADE_ACT_RELU;
    made_model_free(model("plain-relu.safetensors", &cfg));

    made_config_default(&cfg);
    cfg.event_size = 1;
    made_model_free(model("tiny-e1.safetensors", &cfg));

    made_config_default(&cfg);
    cfg.event_size = 4;
    cfg.n_hidden = 1;
    cfg.hidden_units[0] = 5;
    cfg.conditional_size = 2;
    cfg.dist = (made_dist){MADE_DIST_GAUSSIAN, 0};
    cfg.params = 2;
    cfg.activation = MADE_ACT_TANH;
    made_model *gauss = model("cond-all-gaussian.safetensors", &cfg);
    checkpoint("ckpt-adam-cond.safetensors", gauss, MADE_OPTIM_ADAM);
    made_model_free(gauss);

    made_config_default(&cfg);
    cfg.event_size = 2;
    cfg.n_hidden = 1;
    cfg.hidden_units[0] = 3;
    cfg.conditional_size = 1;
    cfg.conditional_layers = MADE_COND_FIRST_LAYER;
    cfg.dist = (made_dist){MADE_DIST_MOG, 2};
    cfg.params = 6;
    cfg.activation = MADE_ACT_GELU;
    cfg.validate_args = 1;
    cfg.kernel_initializer = made_initializer_default(MADE_INIT_VARIANCE_SCALING);
    cfg.bias_initializer = made_initializer_default(MADE_INIT_RANDOM_NORMAL);
    made_model_free(model("cond-first-mog.safetensors", &cfg));

    static const int order[3] = {2, 3, 1};
    made_config_default(&cfg);
    cfg.event_size = 3;
    cfg.n_hidden = 2;
    cfg.hidden_units[0] = 3;
    cfg.hidden_units[1] = 3;
    cfg.input_order = MADE_ORDER_EXPLICIT;
    cfg.explicit_order = order;
    cfg.use_bias = 0;
    cfg.dist = (made_dist){MADE_DIST_CATEGORICAL, 3};
    cfg.params = 3;
    cfg.activation = MADE_ACT_ELU;
    made_model_free(model("explicit-order-categorical.safetensors", &cfg));

    made_config_default(&cfg);
    cfg.event_size = 3;
    cfg.n_hidden = 1;
    cfg.hidden_units[0] = 6;
    cfg.input_order = MADE_ORDER_RANDOM;
    cfg.hidden_degrees = MADE_DEGREES_RANDOM;
    cfg.num_masks = 3;
    cfg.seed = 42;
    cfg.dist = (made_dist){MADE_DIST_BERNOULLI, 0};
    cfg.params = 1;
    cfg.activation = MADE_ACT_SIGMOID;
    made_model *masks = model("masks3-bernoulli.safetensors", &cfg);
    checkpoint("ckpt-sgd-masks3.safetensors", masks, MADE_OPTIM_SGD);
    made_model_free(masks);

    made_config_default(&cfg);
    cfg.event_size = 2;
    cfg.params = 2;
    cfg.input_order = MADE_ORDER_RIGHT_TO_LEFT;
    cfg.kernel_initializer = made_initializer_default(MADE_INIT_RANDOM_UNIFORM);
    made_model_free(model("r2l-no-hidden.safetensors", &cfg));

    /* Bare safetensors: one tensor of every dtype, and the smallest file. */
    static const unsigned char bytes[64] = {1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    made__st_entry e[13];
    for (int d = 0; d <= MADE__ST_F64; d++) {
        memset(&e[d], 0, sizeof e[d]);
        e[d].name = made__st_dtype_name((made__st_dtype)d);
        e[d].dtype = (made__st_dtype)d;
        e[d].ndim = d % 3;
        e[d].shape[0] = 2;
        e[d].shape[1] = 1;
        e[d].data = bytes;
    }
    const char *keys[] = {"format", "note"}, *vals[] = {"pt", "every dtype"};
    if (made__st_write(path_of("model", "st-dtypes.safetensors"), e, 13, keys, vals, 2))
        die("st-dtypes");
    if (made__st_write(path_of("model", "st-empty.safetensors"), NULL, 0, NULL, NULL, 0))
        die("st-empty");
}

/* fuzz_model also takes "header NUL data" (it prepends the length itself), so
 * mutations of the JSON header keep a matching length: one such seed per file. */
static void header_form(const char *name)
{
    unsigned char *bytes;
    size_t size;
    if (made__read_file(path_of("model", name), &bytes, &size)) die(name);
    size_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | bytes[i];
    memmove(bytes, bytes + 8, hlen);
    bytes[hlen] = 0;
    memmove(bytes + hlen + 1, bytes + 8 + hlen, size - 8 - hlen);
    char hname[256];
    snprintf(hname, sizeof hname, "hdr-%.*s", (int)strcspn(name, "."), name);
    put("model", hname, bytes, size - 7);
    made__free(bytes);
}

static void header_forms(void)
{
    static const char *const names[] = {
        "plain-relu.safetensors", "tiny-e1.safetensors", "cond-all-gaussian.safetensors",
        "ckpt-adam-cond.safetensors", "cond-first-mog.safetensors",
        "explicit-order-categorical.safetensors", "masks3-bernoulli.safetensors",
        "ckpt-sgd-masks3.safetensors", "r2l-no-hidden.safetensors", "st-dtypes.safetensors",
        "st-empty.safetensors"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) header_form(names[i]);
    /* Hostile headers the reader must refuse, as starting points. */
    put_text("model", "hdr-bad-metadata",
             "{\"__metadata__\":[\"made\"],\"a\":{\"dtype\":\"U8\",\"shape\":[],"
             "\"data_offsets\":[0,1]}}");
    put("model", "hdr-nine-dims",
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}\0x", 71);
    put_text("model", "hdr-shape-overflow",
             "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296,4294967296],"
             "\"data_offsets\":[0,0]}}");
    put_text("model", "hdr-overlap",
             "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
             "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[1,3]}}");
}

/* ---- npy, csv ------------------------------------------------------------ */

static void arrays(void)
{
    static float v[24];
    for (int i = 0; i < 24; i++) v[i] = (float)(i - 7) * 0.37f;
    v[5] = 1e-40f; /* subnormal */
    v[6] = -0.0f;
    struct {
        const char *name;
        int ndim;
        size_t shape[3];
    } shapes[] = {{"f4-scalar", 0, {0}}, {"f4-1d", 1, {5}}, {"f4-2d", 2, {4, 6}},
                  {"f4-empty", 2, {0, 3}}, {"f4-3d", 3, {2, 3, 4}}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        made_array a = {v, shapes[i].ndim, {0}};
        memcpy(a.shape, shapes[i].shape, sizeof shapes[i].shape);
        char name[64];
        snprintf(name, sizeof name, "%s.npy", shapes[i].name);
        if (made_npy_write(&a, path_of("npy", name))) die(name);
        if (a.ndim == 2 && a.shape[0] > 0) {
            snprintf(name, sizeof name, "%s.csv", shapes[i].name);
            if (made_csv_write(&a, path_of("csv", name))) die(name);
        }
    }
    put_text("csv", "header.csv", "x1,x2,x3\n1,2,3\n4.5,-6e-3,7\n");
    put_text("csv", "quoted-header-crlf.csv",
             "\"a, first\",\"say \"\"b\"\"\",c\r\n\"1\", 2 ,3\r\n4,5,6\r\n\r\n");
    put_text("csv", "bom-tabs.csv", "\xEF\xBB\xBF" "1,\t2\n3,\t4");
    put_text("csv", "one-cell.csv", "42");
    put_text("csv", "numbers.csv", "0x1p3,1e-45,-0,+.5\n3.4028235e38,1E2,7.,-1\n");
    put_text("csv", "nonfinite.csv", "1,inf\n2,1e39\n");
    put_text("csv", "missing.csv", "1,NA,3\n4,N/A,\n");
}

/* ---- IDX ------------------------------------------------------------------ */

static size_t idx_file(unsigned char *out, int type, int ndim, const unsigned *dims, size_t esize)
{
    size_t n = 0, count = 1;
    out[n++] = 0;
    out[n++] = 0;
    out[n++] = (unsigned char)type;
    out[n++] = (unsigned char)ndim;
    for (int d = 0; d < ndim; d++) {
        for (int s = 24; s >= 0; s -= 8) out[n++] = (unsigned char)(dims[d] >> s);
        count *= dims[d];
    }
    for (size_t k = 0; k < count * esize; k++) out[n++] = (unsigned char)(k * 37 + 11);
    if (type == 0x0E) /* doubles: keep them finite and in float32 range */
        for (size_t k = 0; k < count; k++) {
            double x = (double)k * 1.5 - 3.0;
            uint64_t u;
            memcpy(&u, &x, 8);
            for (int s = 0; s < 8; s++) out[n - count * 8 + k * 8 + (size_t)s] = (unsigned char)(u >> (56 - 8 * s));
        }
    return n;
}

/* gzip with zlib's deflate, as gzip(1) writes it (one member). */
static size_t gzip(unsigned char *out, size_t cap, const unsigned char *in, size_t n, int level)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        die("deflateInit2");
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) die("deflate");
    size_t len = zs.total_out;
    deflateEnd(&zs);
    return len;
}

static void idx(void)
{
    static const struct {
        const char *name;
        int type, ndim;
        unsigned dims[3];
        size_t esize;
    } kinds[] = {
        {"u8-images", 0x08, 3, {2, 3, 3}, 1}, {"u8-labels", 0x08, 1, {10}, 1},
        {"i8", 0x09, 2, {2, 4}, 1},          {"i16", 0x0B, 2, {3, 2}, 2},
        {"i32", 0x0C, 1, {4}, 4},            {"f32", 0x0D, 2, {2, 2}, 4},
        {"f64", 0x0E, 2, {2, 3}, 8},         {"empty", 0x08, 2, {0, 5}, 1},
    };
    unsigned char raw[512], gz[1024];
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        size_t n = idx_file(raw, kinds[i].type, kinds[i].ndim, kinds[i].dims, kinds[i].esize);
        char name[64];
        snprintf(name, sizeof name, "%s.idx", kinds[i].name);
        put("idx", name, raw, n);
        snprintf(name, sizeof name, "%s.idx.gz", kinds[i].name);
        put("idx", name, gz, gzip(gz, sizeof gz, raw, n, i % 2 ? 9 : 1));
    }
    /* Two gzip members that together hold one IDX file, as `cat a.gz b.gz`. */
    size_t n = idx_file(raw, 0x08, 2, (const unsigned[]){4, 4}, 1);
    size_t g1 = gzip(gz, sizeof gz, raw, 10, 6);
    size_t g2 = gzip(gz + g1, sizeof gz - g1, raw + 10, n - 10, 6);
    put("idx", "two-members.idx.gz", gz, g1 + g2);
    /* Stored (level 0) blocks: the IDX bytes are visible to the mutator. */
    put("idx", "stored.idx.gz", gz, gzip(gz, sizeof gz, raw, n, 0));
    /* 1.2 MB of zeros in 1.2 KB: more than the reader's first inflate buffer
     * (1 MiB), so its growth path runs. */
    size_t big = 12 + 1200 * 1000;
    unsigned char *zeros = calloc(big, 1), *zgz = malloc(8192);
    if (!zeros || !zgz) die("out of memory");
    idx_file(zeros, 0x08, 2, (const unsigned[]){1200, 1000}, 0);
    put("idx", "u8-1200x1000-zeros.idx.gz", zgz, gzip(zgz, 8192, zeros, big, 9));
    free(zeros);
    free(zgz);
}

/* ---- JSON and CLI --------------------------------------------------------- */

static void json(void)
{
    put_text("json", "values.json",
             "{\"null\":null,\"t\":true,\"f\":false,\"int\":-9223372036854775808,\"big\":"
             "18446744073709551616,\"frac\":-0.5e-3,\"exp\":1E+308,\"tiny\":4.9e-324,"
             "\"arr\":[[],{},[1,[2,[3]]]],\"s\":\"\"}");
    put_text("json", "strings.json",
             "[\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t\",\"\\u00e9\\u20ac\\ud83d\\ude00\","
             "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\",\"\\u0001\"]");
    put_text("json", "whitespace.json", " \t\r\n{ \"a\" : [ 1 , 2 ] } \n");
    put_text("json", "deep.json",
             "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[0]]]]]]]]]]]]]]]]]]]]]]]"
             "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
    put_text("json", "scalar.json", "0");
    put_text("json", "metadata.json",
             "{\"__metadata__\":{\"format\":\"made\",\"format_version\":\"1\"},\"w\":{\"dtype\":"
             "\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}");
}

static void argv_seed(const char *name, const char *const *args)
{
    char buf[1024];
    size_t n = 0;
    for (int i = 0; args[i]; i++) {
        size_t len = strlen(args[i]);
        if (n + len + 1 > sizeof buf) die("cli seed too long");
        memcpy(buf + n, args[i], len);
        n += len;
        if (args[i + 1]) buf[n++] = '\0';
    }
    put("cli", name, buf, n);
}

static void cli(void)
{
    argv_seed("init-basic", (const char *const[]){"init", "-o", "m.safetensors", "--event-size", "3",
                                                  "--params", "2", "--hidden", "4", "--activation",
                                                  "relu", NULL});
    argv_seed("init-everything",
              (const char *const[]){"init", "-e", "4", "--hidden", "8,8", "--input-order", "2,4,1,3",
                                    "--hidden-degrees", "random", "--activation", "swish", "--no-bias",
                                    "--kernel-initializer",
                                    "variance_scaling:scale=2,mode=fan_avg,distribution=uniform",
                                    "--bias-initializer", "random_uniform:-0.1,0.1",
                                    "--conditional-size", "2", "--conditional-layers", "first_layer",
                                    "--seed", "4294967295", "--validate-args", "--dist", "mog:3",
                                    NULL});
    argv_seed("init-masks",
              (const char *const[]){"init", "--event-size=5", "--input-order=random", "--masks=8",
                                    "--hidden=16", "--dist=categorical:4",
                                    "--kernel-initializer=truncated_normal:0,0.05",
                                    "--bias-initializer=constant:-1.5e-3", NULL});
    argv_seed("train-numbers",
              (const char *const[]){"train", "data.npy", "-o", "m", "--dist", "bernoulli", "--epochs",
                                    "20", "-b", "64", "--lr", "3e-4", "--momentum", "0.9",
                                    "--weight-decay", "1e-5", "--clip-norm", "1.0", "--val-fraction",
                                    "0.1", "--binarize", "0.5", "-t", "2", "-q", "--", "-x", NULL});
    argv_seed("init-empty-hidden",
              (const char *const[]){"init", "-e", "2", "--hidden", "", "--activation", "none",
                                    "--kernel-initializer", "he_normal", "--dist", "gaussian", NULL});
    argv_seed("help", (const char *const[]){"init", "--help", NULL});
    argv_seed("values", (const char *const[]){"x", "-12", "0x10", "1e308", "-.5", "  7", "3,2,1",
                                              "glorot_uniform", "zero", "one", "lecun_normal",
                                              "hard_sigmoid", "silu", "linear", "all_layers", NULL});
}

int main(int argc, char **argv)
{
    root = argc > 1 ? argv[1] : "fuzz/corpus";
    const char *targets[] = {"model", "npy", "csv", "idx", "json", "cli"};
    for (size_t i = 0; i < sizeof targets / sizeof *targets; i++) {
        char d[1024];
        snprintf(d, sizeof d, "%s/%s", root, targets[i]);
        mkdir(root, 0755);
        mkdir(d, 0755);
    }
    models();
    header_forms();
    arrays();
    idx();
    json();
    cli();
    printf("seeds: written to %s/\n", root);
    return 0;
}
