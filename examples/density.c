/* density.c - density estimation through the API: train a Bernoulli MADE on
 * synthetic binary data, score it, and draw samples with both samplers. */
#include <made.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define E 6
#define N 4000

/* x0 fair, x1 = x0, x2 fair, x3 = x2 xor x0, x4 = x1 and x2, x5 fair:
 * entropy 3 ln 2 nats. */
static void make_data(float *x, unsigned seed)
{
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        int a = (seed >> 16) & 1, b = (seed >> 17) & 1, c = (seed >> 18) & 1;
        float *r = x + i * E;
        r[0] = (float)a;
        r[1] = (float)a;
        r[2] = (float)b;
        r[3] = (float)(a ^ b);
        r[4] = (float)(a & b);
        r[5] = (float)c;
    }
}

static int progress(void *user, const made_progress *p)
{
    (void)user;
    if (p->epoch_done && p->epoch % 10 == 0)
        printf("epoch %3d  train NLL %.4f nats\n", p->epoch, p->train_nll);
    return 0;
}

int main(void)
{
    static float x[N * E];
    make_data(x, 1);

    made_config cfg;
    made_config_default(&cfg);
    cfg.event_size = E;
    cfg.n_hidden = 1;
    cfg.hidden_units[0] = 32;
    cfg.activation = MADE_ACT_RELU;
    made_dist_parse("bernoulli", &cfg.dist);
    cfg.params = made_dist_params(cfg.dist);

    made_train_config tc;
    made_train_config_default(&tc);
    tc.epochs = 40;
    tc.lr = 1e-2;
    tc.seed = 1;

    made_model *m = NULL;
    made_trainer *t = NULL;
    int rc = made_model_create(&m, &cfg);
    if (!rc) rc = made_trainer_create(&t, m, &tc);
    if (!rc) rc = made_trainer_fit(t, x, NULL, N, NULL, NULL, 0, progress, NULL);
    double nll = 0;
    if (!rc) rc = made_model_nll(m, x, NULL, N, 0, &nll);
    if (rc) {
        fprintf(stderr, "made: %s\n", made_last_error());
        return 1;
    }
    printf("NLL %.4f nats (true entropy %.4f)\n", nll, 3 * log(2.0));

    float fast[8 * E], naive[8 * E];
    made_model_sample(m, fast, NULL, 8, 42);
    made_model_sample_naive(m, naive, NULL, 8, 42);
    for (int i = 0; i < 8; i++) {
        for (int j = 0; j < E; j++) printf("%d", (int)fast[i * E + j]);
        printf(i % 4 == 3 ? "\n" : "  ");
    }
    printf("fast and naive samplers agree: %s\n", memcmp(fast, naive, sizeof fast) ? "no" : "yes");
    made_trainer_free(t);
    made_model_free(m);
    return 0;
}
