/* degrees.c - input orders, hidden degrees and masks (MADE section 4; TFP's
 * _create_input_order, _create_degrees and _create_masks). */
#include <string.h>

#include "core/internal.h"
#include "net/config.h"
#include "net/degrees.h"

void made__degrees_equal(int *deg, int h, int e, int prev_min)
{
    /* TFP computes ceil(k*(E-1)/(H+1)) in float64; the integer form
     * (k*(E-1) + H) div (H+1) is the same number without rounding questions. */
    int m = prev_min < e - 1 ? prev_min : e - 1;
    for (int k = 1; k <= h; k++) {
        long long raw = ((long long)k * (e - 1) + h) / (h + 1);
        deg[k - 1] = raw > m ? (int)raw : m;
    }
}

static int min_of(const int *a, int n)
{
    int m = a[0];
    for (int i = 1; i < n; i++)
        if (a[i] < m) m = a[i];
    return m;
}

void made__degrees_free(made__degrees *d)
{
    if (!d) return;
    for (int l = 0; l <= MADE_MAX_HIDDEN; l++) made__free(d->deg[l]);
    memset(d, 0, sizeof *d);
}

int made__degrees_build(made__degrees *d, const made_config *cfg, made__mt *mt)
{
    int e = cfg->event_size;
    memset(d, 0, sizeof *d);
    d->n_hidden = cfg->n_hidden;
    d->deg[0] = made__malloc((size_t)e * sizeof(int));
    if (!d->deg[0]) return MADE_E_NOMEM;
    int *order = d->deg[0];
    switch (cfg->input_order) {
    case MADE_ORDER_LEFT_TO_RIGHT:
        for (int j = 0; j < e; j++) order[j] = j + 1;
        break;
    case MADE_ORDER_RIGHT_TO_LEFT:
        for (int j = 0; j < e; j++) order[j] = e - j;
        break;
    case MADE_ORDER_RANDOM:
        for (int j = 0; j < e; j++) order[j] = j + 1;
        made__mt_shuffle(mt, order, e);
        break;
    case MADE_ORDER_EXPLICIT:
        /* A permutation of 1..e: made_config_validate checked it. */
        memcpy(order, cfg->explicit_order, (size_t)e * sizeof(int));
        break;
    }
    int prev_n = e;
    for (int l = 1; l <= cfg->n_hidden; l++) {
        int h = cfg->hidden_units[l - 1];
        d->deg[l] = made__malloc((size_t)h * sizeof(int));
        if (!d->deg[l]) {
            made__degrees_free(d);
            return MADE_E_NOMEM;
        }
        /* Both rules start from the previous layer's smallest degree, capped at
         * E-1, so degrees can only rise from layer to layer. */
        int prev_min = min_of(d->deg[l - 1], prev_n);
        if (cfg->hidden_degrees == MADE_DEGREES_EQUAL) {
            made__degrees_equal(d->deg[l], h, e, prev_min);
        } else {
            int low = prev_min < e - 1 ? prev_min : e - 1;
            made__mt_randint(mt, low, e, d->deg[l], h);
        }
        prev_n = h;
    }
    return MADE_OK;
}

void made__mask_build(uint8_t *mask, const made__degrees *d, int l, int e, int params,
                      const int *hidden_units)
{
    int n_in = l == 0 ? e : hidden_units[l - 1];
    const int *din = d->deg[l];
    if (l < d->n_hidden) {
        int n_out = hidden_units[l];
        const int *dout = d->deg[l + 1];
        for (int a = 0; a < n_in; a++)
            for (int b = 0; b < n_out; b++) mask[(size_t)a * n_out + b] = din[a] <= dout[b];
    } else {
        const int *order = d->deg[0];
        size_t n_out = (size_t)e * params;
        for (int a = 0; a < n_in; a++)
            for (int i = 0; i < e; i++)
                for (int p = 0; p < params; p++)
                    mask[(size_t)a * n_out + (size_t)i * params + p] = din[a] < order[i];
    }
}
