/* config.h - internal parts of the configuration (src/net/config.c). */
#ifndef MADE_CONFIG_H
#define MADE_CONFIG_H

#include "io/json.h"
#include "made.h"

/* Checks that order[0..e) is a permutation of 1..e (error names the value), in
 * O(e) time with a temporary table of e bits: MADE_E_INVAL or MADE_E_NOMEM. */
int made__check_order(const int *order, int e);
/* made_config_to_json for a config known to be valid (a model's own): no
 * second validation. */
int made__config_to_json_valid(const made_config *cfg, char *out, size_t size);
/* Reads the JSON form written by made_config_to_json. The explicit order (always
 * present in files) is stored in *order, allocated with made__malloc. */
int made__config_from_json(const made__json *j, made_config *cfg, int **order);

#endif
