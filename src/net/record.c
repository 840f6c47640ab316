/* record.c - what a model file records besides the network: the preprocessing
 * of its data and how its training ended (made_model_record), kept in the
 * file's metadata as "record", a JSON object:
 *   {"binarize":0.5,"epochs_run":10,"best_epoch":7,"stop":"patience",
 *    "train_nll":85.1,"val_nll":88.2}
 * with null for NAN. Files without it (older, or never trained) read as the
 * default record. The model keeps its record (made_model_get_record, in
 * model.c); this file knows the record alone. */
#include <math.h>
#include <string.h>

#include "core/internal.h"
#include "io/buf.h"
#include "io/json.h"
#include "net/record.h"

static const char *const stop_names[] = {"none", "epochs", "patience"};

const char *made_stop_name(made_stop s)
{
    return (unsigned)s < sizeof stop_names / sizeof *stop_names ? stop_names[s] : "unknown";
}

int made_stop_parse(const char *name, made_stop *out)
{
    made__clear_error();
    for (size_t i = 0; name && i < sizeof stop_names / sizeof *stop_names; i++)
        if (strcmp(name, stop_names[i]) == 0) {
            *out = (made_stop)i;
            return MADE_OK;
        }
    return made__error(MADE_E_INVAL, "stop reason \"%s\" (expected none, epochs or patience)",
                       name ? name : "(null)");
}

void made__record_default(made_model_record *r)
{
    memset(r, 0, sizeof *r);
    r->binarize = NAN;
    r->stop = MADE_STOP_NONE;
    r->train_nll = NAN;
    r->val_nll = NAN;
}

int made__record_check(const made_model_record *r)
{
    if (!(isnan(r->binarize) || isfinite(r->binarize)))
        return made__error(MADE_E_INVAL, "record: binarize is infinite");
    if (r->epochs_run < 0 || r->best_epoch < 0 || r->best_epoch > r->epochs_run)
        return made__error(MADE_E_INVAL, "record: best_epoch %d with epochs_run %d",
                           r->best_epoch, r->epochs_run);
    if ((unsigned)r->stop >= sizeof stop_names / sizeof *stop_names)
        return made__error(MADE_E_INVAL, "record: stop reason %d is unknown", (int)r->stop);
    if (isinf(r->train_nll) || isinf(r->val_nll))
        return made__error(MADE_E_INVAL, "record: an NLL is infinite");
    return MADE_OK;
}

int made__record_is_default(const made_model_record *r)
{
    return isnan(r->binarize) && r->epochs_run == 0 && r->stop == MADE_STOP_NONE;
}

static void put_number(made__buf *b, const char *key, double v, int first)
{
    made__buf_printf(b, "%s\"%s\":", first ? "" : ",", key);
    if (isnan(v)) made__buf_printf(b, "null");
    else made__buf_printf(b, "%.17g", v);
}

void made__record_to_json(const made_model_record *r, made__buf *b)
{
    put_number(b, "binarize", r->binarize, 1);
    made__buf_printf(b, ",\"epochs_run\":%d,\"best_epoch\":%d,\"stop\":\"%s\"", r->epochs_run,
                     r->best_epoch, made_stop_name(r->stop));
    put_number(b, "train_nll", r->train_nll, 0);
    put_number(b, "val_nll", r->val_nll, 0);
}

/* A number or null (NAN) member. */
static int get_number(const made__json *j, const char *key, double *out)
{
    const made__json *v = made__json_get(j, key);
    if (v && v->type == MADE__JSON_NULL) {
        *out = NAN;
        return MADE_OK;
    }
    if (!v || v->type != MADE__JSON_NUMBER)
        return made__error(MADE_E_FORMAT, "record: \"%s\" missing or not a number", key);
    *out = v->number;
    return MADE_OK;
}

int made__record_from_json(const char *text, made_model_record *r)
{
    made__record_default(r);
    made__json *j = NULL;
    int rc = made__json_parse(text, strlen(text), &j);
    double epochs = 0, best = 0;
    if (!rc && j->type != MADE__JSON_OBJECT)
        rc = made__error(MADE_E_FORMAT, "record: not a JSON object");
    if (!rc) rc = get_number(j, "binarize", &r->binarize);
    if (!rc) rc = get_number(j, "epochs_run", &epochs);
    if (!rc) rc = get_number(j, "best_epoch", &best);
    if (!rc) rc = get_number(j, "train_nll", &r->train_nll);
    if (!rc) rc = get_number(j, "val_nll", &r->val_nll);
    const made__json *stop = rc ? NULL : made__json_get(j, "stop");
    if (!rc && (!stop || stop->type != MADE__JSON_STRING || made_stop_parse(stop->string, &r->stop)))
        rc = made__error(MADE_E_FORMAT, "record: \"stop\" missing or not none, epochs or patience");
    /* Range before conversion: a double outside int's range is undefined as int. */
    if (!rc && !(epochs >= 0 && epochs <= 1e9 && best >= 0 && best <= epochs &&
                 epochs == floor(epochs) && best == floor(best)))
        rc = made__error(MADE_E_FORMAT, "record: epochs_run %g, best_epoch %g", epochs, best);
    if (!rc) {
        r->epochs_run = (int)epochs;
        r->best_epoch = (int)best;
        if (made__record_check(r)) rc = MADE_E_FORMAT;
    }
    made__json_free(j);
    if (rc) made__record_default(r);
    return rc;
}
