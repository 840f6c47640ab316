/* init.c - registers the .Call entry points of the made R package. */
#include <R_ext/Rdynload.h>

#include "made_r.h"

#define ENTRY(name, n) {#name, (DL_FUNC)&name, n}
static const R_CallMethodDef calls[] = {
    ENTRY(made_r_free, 1),        ENTRY(made_r_create, 3),      ENTRY(made_r_config, 1),
    ENTRY(made_r_set_threads, 2), ENTRY(made_r_set_mask, 2),    ENTRY(made_r_degrees, 1),
    ENTRY(made_r_masks, 1),       ENTRY(made_r_get_weights, 1), ENTRY(made_r_set_weights, 2),
    ENTRY(made_r_forward, 3),     ENTRY(made_r_save, 2),        ENTRY(made_r_load, 1),
    ENTRY(made_r_read_data, 1),   ENTRY(made_r_log_prob, 4),    ENTRY(made_r_nll, 4),
    ENTRY(made_r_sample, 5),      ENTRY(made_r_check_data, 2),  ENTRY(made_r_fit, 13),
    ENTRY(made_r_version, 0),     ENTRY(made_r_record, 1),
    ENTRY(made_r_flow_free, 1),        ENTRY(made_r_flow_create, 4),
    ENTRY(made_r_flow_info, 1),        ENTRY(made_r_flow_layer, 2),
    ENTRY(made_r_flow_permutations, 1), ENTRY(made_r_flow_get_bn, 2),
    ENTRY(made_r_flow_set_bn, 3),      ENTRY(made_r_flow_standardization, 1),
    ENTRY(made_r_flow_set_threads, 2), ENTRY(made_r_flow_log_prob, 3),
    ENTRY(made_r_flow_nll, 3),         ENTRY(made_r_flow_sample, 4),
    ENTRY(made_r_flow_transform, 4),   ENTRY(made_r_flow_save, 2),
    ENTRY(made_r_flow_load, 1),        ENTRY(made_r_is_flow, 1),
    ENTRY(made_r_flow_dequantize, 4),  ENTRY(made_r_flow_record, 1),
    {NULL, NULL, 0}};

void R_init_made(DllInfo *dll)
{
    R_registerRoutines(dll, NULL, calls, NULL, NULL);
    R_useDynamicSymbols(dll, FALSE);
}
