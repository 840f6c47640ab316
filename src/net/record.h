/* net/record.h - what a model file records besides the network (record.c). */
#ifndef MADE_RECORD_H
#define MADE_RECORD_H

#include "io/buf.h"
#include "made.h"

/* The default record (nothing known), whether r is it, and its checks
 * (MADE_E_INVAL naming what is wrong). */
void made__record_default(made_model_record *r);
int made__record_is_default(const made_model_record *r);
int made__record_check(const made_model_record *r);
/* The "record" metadata value: JSON members without the braces, and back. */
void made__record_to_json(const made_model_record *r, made__buf *b);
int made__record_from_json(const char *text, made_model_record *r);

#endif
