/* ckpt_check.c - loads training checkpoints exactly as `made train --resume`
 * does (made_trainer_resume: the model, the optimiser state and the progress
 * counters, fully validated) and prints where each run stands. Used by
 * scripts/soak.sh after every interruption; built with
 * `make build/tests/ckpt_check`.
 *
 *     ckpt_check CKPT...   exit 0 if every checkpoint loads, 1 otherwise
 */
#include <stdio.h>

#include "made.h"
#include "train/trainer.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: ckpt_check CKPT...\n");
        return 2;
    }
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        made_trainer *t = NULL;
        made_model *m = NULL;
        int rc = made_trainer_resume(&t, &m, argv[i]);
        if (rc != MADE_OK) {
            fprintf(stderr, "ckpt_check: %s (%s)\n", made_last_error(), made_status_name(rc));
            bad = 1;
            continue;
        }
        printf("%s: epoch %d/%d, batch %zu, step %lld%s\n", argv[i], t->epoch, t->cfg.epochs,
               t->batch, t->step, t->stopped ? ", stopped early" : "");
        made_trainer_free(t);
        made_model_free(m);
    }
    return bad;
}
