/* test_tfp_flows.c - parity with the real tfp.bijectors.MaskedAutoregressiveFlow
 * stacks. Every fixture listed in tests/fixtures/tfp-flows/index.txt was
 * written by tests/ref/gen_tfp_flow_fixtures.py from TFP itself: a MAF or IAF
 * stack of 1-4 layers (permutations reverse, numpy-seeded random or explicit,
 * conditional or not), each network's get_weights(), data y with TFP's
 * log_prob, and base noise z with TFP's chain.forward. We build the same stack,
 * load the weights, check the permutations, and compare log_prob and forward
 * within 1e-5 relative (+ 1e-5 absolute). The worst error is printed.
 * Run from the repository root. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "io/json.h"
#include "made.h"

#define DIR "tests/fixtures/tfp-flows/"
#define REL 1e-5
#define ABS 1e-5

static double worst; /* max |made - tfp| / (ABS + REL |tfp|) */
static char worst_case[128];
static int n_cases, n_values;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b) b[n] = '\0';
    fclose(f);
    return b;
}

static const made__json *member(const made__json *o, const char *key, made__json_type t)
{
    const made__json *v = made__json_get(o, key);
    return v && v->type == t ? v : NULL;
}

static int integer(const made__json *o, const char *key)
{
    const made__json *v = member(o, key, MADE__JSON_NUMBER);
    return v ? (int)v->integer : -1;
}

/* The "data" of {"shape", "data"} (or a plain array) as floats. */
static float *floats(const made__json *t, size_t *count)
{
    const made__json *d = t && t->type == MADE__JSON_OBJECT ? member(t, "data", MADE__JSON_ARRAY) : t;
    if (!d || d->type != MADE__JSON_ARRAY) return NULL;
    float *v = malloc((d->count ? d->count : 1) * sizeof *v);
    for (size_t i = 0; v && i < d->count; i++) v[i] = (float)d->items[i].number;
    *count = d->count;
    return v;
}

static void compare(const char *name, const char *what, double got, double want)
{
    double e = fabs(got - want) / (ABS + REL * fabs(want));
    n_values++;
    if (e > worst) {
        worst = e;
        snprintf(worst_case, sizeof worst_case, "%s %s", name, what);
    }
    if (!(e <= 1)) HARNESS_FAIL_("%s: %s: made %.9g, tfp %.9g", name, what, got, want);
}

static made_flow *build(const made__json *j, const char *name)
{
    made_flow_config fc;
    made_flow_config_default(&fc);
    const char *kind = member(j, "kind", MADE__JSON_STRING)->string;
    CHECK_OK(made_flow_kind_parse(kind, &fc.kind));
    fc.num_layers = integer(j, "K");
    fc.layer.event_size = integer(j, "E");
    fc.layer.conditional_size = integer(j, "C");
    const made__json *h = member(j, "hidden", MADE__JSON_ARRAY);
    fc.layer.n_hidden = (int)h->count;
    for (size_t l = 0; l < h->count; l++) fc.layer.hidden_units[l] = (int)h->items[l].integer;
    CHECK_OK(made_activation_parse(member(j, "activation", MADE__JSON_STRING)->string,
                                   &fc.layer.activation));
    CHECK_OK(made_flow_permutation_parse(member(j, "permutation", MADE__JSON_STRING)->string,
                                         &fc.permutation));
    fc.permutation_seed = (uint32_t)integer(j, "perm_seed");
    const made__json *perms = member(j, "permutations", MADE__JSON_ARRAY);
    int explicit_perm[64];
    if (fc.permutation == MADE_FLOW_PERM_EXPLICIT) {
        for (size_t i = 0; i < perms->items[0].count; i++)
            explicit_perm[i] = (int)perms->items[0].items[i].integer;
        fc.explicit_permutation = explicit_perm;
    }
    made_flow *f = NULL;
    CHECK_OK(made_flow_create(&f, &fc));
    if (!f) return NULL;
    /* The permutations made builds are TFP's (numpy's for 'random'). */
    for (size_t k = 0; k < perms->count; k++) {
        int p[64];
        CHECK_OK(made_flow_get_permutation(f, (int)k, p));
        for (size_t i = 0; i < perms->items[k].count; i++)
            if (p[i] != (int)perms->items[k].items[i].integer)
                HARNESS_FAIL_("%s: permutation %zu entry %zu is %d, TFP's is %lld", name, k, i,
                              p[i], perms->items[k].items[i].integer);
    }
    const made__json *layers = member(j, "layers", MADE__JSON_ARRAY);
    for (size_t k = 0; k < layers->count; k++) {
        made_model *m = made_flow_layer(f, (int)k);
        size_t np = made_model_num_params(m), at = 0;
        float *w = malloc(np * sizeof *w);
        const made__json *ws = &layers->items[k];
        for (size_t t = 0; t < ws->count && at <= np; t++) {
            size_t n;
            float *v = floats(&ws->items[t], &n);
            if (at + n <= np) memcpy(w + at, v, n * sizeof *v);
            at += n;
            free(v);
        }
        CHECK_EQ_INT(at, np);
        if (at == np) CHECK_OK(made_model_set_weights(m, w, np));
        free(w);
    }
    return f;
}

static void run_case(const char *file)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", DIR, file);
    char *text = slurp(path);
    if (!text) {
        HARNESS_FAIL_("cannot read %s", path);
        return;
    }
    made__json *j = NULL;
    CHECK_OK(made__json_parse(text, strlen(text), &j));
    free(text);
    if (!j) return;
    const char *name = member(j, "name", MADE__JSON_STRING)->string;
    made_flow *f = build(j, name);
    if (f) {
        const int E = integer(j, "E");
        size_t ny, nc, nlp, nz, ncz, nfw;
        float *y = floats(member(j, "y", MADE__JSON_OBJECT), &ny);
        float *c = floats(member(j, "c", MADE__JSON_OBJECT), &nc);
        float *lp_want = floats(member(j, "log_prob", MADE__JSON_ARRAY), &nlp);
        float *z = floats(member(j, "z", MADE__JSON_OBJECT), &nz);
        float *cz = floats(member(j, "cz", MADE__JSON_OBJECT), &ncz);
        float *fw_want = floats(member(j, "forward", MADE__JSON_OBJECT), &nfw);
        size_t n = ny / (size_t)E, m = nz / (size_t)E;
        double *lp = malloc(n * sizeof *lp);
        float *fw = malloc(nz * sizeof *fw);
        CHECK_OK(made_flow_log_prob(f, lp, y, c, n));
        for (size_t i = 0; i < n; i++) compare(name, "log_prob", lp[i], lp_want[i]);
        CHECK_OK(made_flow_forward(f, fw, NULL, z, cz, m));
        for (size_t i = 0; i < nz; i++) compare(name, "forward", fw[i], fw_want[i]);
        free(y);
        free(c);
        free(lp_want);
        free(z);
        free(cz);
        free(fw_want);
        free(lp);
        free(fw);
        n_cases++;
    }
    made_flow_free(f);
    made__json_free(j);
}

static void test_fixtures(void)
{
    char *index = slurp(DIR "index.txt");
    CHECK(index != NULL);
    if (!index) return;
    for (char *save = NULL, *line = strtok_r(index, "\r\n", &save); line;
         line = strtok_r(NULL, "\r\n", &save))
        if (*line) run_case(line);
    free(index);
    CHECK(n_cases >= 20);
    printf("tfp flows: %d cases, %d values, worst error %.3f of the tolerance (%s)\n", n_cases,
           n_values, worst, worst_case);
}

int main(void)
{
    RUN(test_fixtures);
    return harness_summary("test_tfp_flows");
}
