/* checkpoint.c - resuming a flow's training: the flow file's tensors plus the
 * trainer's state, as train/checkpoint.c reads it for a MADE. */
#include "flow/flow.h"
#include "io/json.h"
#include "io/safetensors.h"
#include "train/trainer.h"

int made_flow_trainer_resume(made_trainer **out, made_flow **flow, const char *path)
{
    made__clear_error();
    if (!out || !flow || !path) return made__error(MADE_E_INVAL, "resume: NULL argument");
    *out = NULL;
    *flow = NULL;
    made__st_file f;
    int rc = made__st_read_as(&f, path, "a made checkpoint");
    if (rc) return rc;
    made_flow *fl = NULL;
    made_trainer *t = NULL;
    made__json *js = NULL;
    made_train_config cfg;
    rc = made__checkpoint_read_meta(&f, &cfg, &js);
    size_t n_extra = cfg.optimizer == MADE_OPTIM_ADAM ? 3 : 2;
    if (!rc) rc = made__flow_read_ex(&f, MADE__FLOW_CKPT_FORMAT, n_extra, &fl);
    if (!rc) rc = made__flow_trainer_alloc(&t, fl, &cfg);
    if (!rc) rc = made__checkpoint_read_state(js, t);
    if (!rc) rc = made__checkpoint_read_blocks(&f, t);
    const char *note = made__st_meta(&f, "note");
    if (!rc && note) rc = made_trainer_set_note(t, note);
    if (rc) {
        made__error_prefix("%s: ", path);
        made_trainer_free(t);
        made_flow_free(fl);
        t = NULL;
        fl = NULL;
    }
    made__json_free(js);
    made__st_free(&f);
    *out = t;
    *flow = fl;
    return rc;
}
