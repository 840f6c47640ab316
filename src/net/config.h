/* config.h - internal parts of the configuration (src/net/config.c). */
#ifndef MADE_CONFIG_H
#define MADE_CONFIG_H

#include "io/json.h"
#include "made.h"

/* Checks that order[0..e) is a permutation of 1..e (error names the value). */
int made__check_order(const int *order, int e);
/* Reads the JSON form written by made_config_to_json. The explicit order (always
 * present in files) is stored in *order, allocated with made__malloc. */
int made__config_from_json(const made__json *j, made_config *cfg, int **order);

#endif
