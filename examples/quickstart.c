/* quickstart.c - build a TFP-compatible MADE, run it on a batch, save it.
 * Spec example A: E = 3, hidden [4], params 2, all kernels 1, biases 0. */
#include <made.h>
#include <stdio.h>

int main(void)
{
    made_config cfg;
    made_config_default(&cfg); /* TFP's defaults */
    cfg.event_size = 3;
    cfg.params = 2;
    cfg.n_hidden = 1;
    cfg.hidden_units[0] = 4;
    cfg.kernel_initializer = made_initializer_default(MADE_INIT_ONES);

    made_model *m = NULL;
    int rc = made_model_create(&m, &cfg);
    if (rc != MADE_OK) {
        fprintf(stderr, "made: %s (%s)\n", made_last_error(), made_strerror(rc));
        return 1;
    }
    float x[2 * 3] = {1, 2, 3, 0.5f, -1, 2};
    float y[2 * 3 * 2]; /* [N, E, params] */
    rc = made_model_forward(m, y, x, NULL, 2);
    for (int i = 0; rc == MADE_OK && i < 2; i++) {
        printf("x = [%g, %g, %g] -> [", x[3 * i], x[3 * i + 1], x[3 * i + 2]);
        for (int k = 0; k < 3; k++) printf("%s[%g, %g]", k ? ", " : "", y[6 * i + 2 * k], y[6 * i + 2 * k + 1]);
        printf("]\n");
    }
    made_model_free(m);
    return rc == MADE_OK ? 0 : 1;
}
