/* test_names.c - every enum's *_name and *_parse: each name parses back to its
 * value, aliases parse to their canonical value, unknown names are rejected
 * with a message listing what is accepted, out-of-range values are named "?". */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "made.h"

/* name(v) parses back to v for every value 0..n-1 (parse_n of them parse). */
#define ROUND_TRIP(T, prefix, n, parse_n)                                       \
    do {                                                                        \
        for (int v = 0; v < (n); v++) {                                         \
            const char *nm = made_##prefix##_name((T)v);                        \
            CHECK(strcmp(nm, "?") != 0);                                        \
            T back = (T)0;                                                      \
            int rc = made_##prefix##_parse(nm, &back);                          \
            if (v < (parse_n)) {                                                \
                CHECK_OK(rc);                                                   \
                CHECK_EQ_INT(back, v);                                          \
            } else {                                                            \
                CHECK_STATUS(rc, MADE_E_INVAL);                                 \
            }                                                                   \
        }                                                                       \
        CHECK(strcmp(made_##prefix##_name((T)(n)), "?") == 0);                  \
        CHECK(strcmp(made_##prefix##_name((T)-1), "?") == 0);                   \
        T dummy;                                                                \
        CHECK_STATUS(made_##prefix##_parse("no-such-name", &dummy), MADE_E_INVAL); \
        CHECK_STR_CONTAINS(made_last_error(), "\"no-such-name\"");              \
        CHECK_STR_CONTAINS(made_last_error(), made_##prefix##_name((T)((parse_n)-1))); \
    } while (0)

static void test_round_trips(void)
{
    ROUND_TRIP(made_activation, activation, MADE_ACT_COUNT, MADE_ACT_COUNT);
    ROUND_TRIP(made_order, order, 4, 3); /* "explicit" is named, not parsed */
    ROUND_TRIP(made_degrees, degrees, 2, 2);
    ROUND_TRIP(made_cond_layers, cond_layers, 2, 2);
    ROUND_TRIP(made_init_kind, init, MADE_INIT_COUNT, MADE_INIT_COUNT);
    ROUND_TRIP(made_dist_kind, dist_kind, 5, 5);
    ROUND_TRIP(made_optimizer, optimizer, 2, 2);
    ROUND_TRIP(made_schedule, schedule, 3, 3);
}

static void test_known_spellings(void)
{
    /* Spellings from Keras and TFP, fixed here independently of the tables. */
    CHECK(strcmp(made_activation_name(MADE_ACT_HARD_SIGMOID), "hard_sigmoid") == 0);
    CHECK(strcmp(made_order_name(MADE_ORDER_RIGHT_TO_LEFT), "right-to-left") == 0);
    CHECK(strcmp(made_init_name(MADE_INIT_VARIANCE_SCALING), "variance_scaling") == 0);
    CHECK(strcmp(made_cond_layers_name(MADE_COND_FIRST_LAYER), "first_layer") == 0);
    CHECK(strcmp(made_dist_kind_name(MADE_DIST_MOG), "mog") == 0);
    CHECK(strcmp(made_optimizer_name(MADE_OPTIM_SGD), "sgd") == 0);
    CHECK(strcmp(made_schedule_name(MADE_LR_COSINE), "cosine") == 0);
}

static void test_aliases(void)
{
    made_activation a = MADE_ACT_RELU;
    CHECK_OK(made_activation_parse("none", &a));
    CHECK_EQ_INT(a, MADE_ACT_LINEAR);
    CHECK_OK(made_activation_parse("silu", &a));
    CHECK_EQ_INT(a, MADE_ACT_SWISH);
    made_init_kind k = MADE_INIT_ONES;
    CHECK_OK(made_init_parse("zero", &k));
    CHECK_EQ_INT(k, MADE_INIT_ZEROS);
    /* Canonical names are the ones written back. */
    CHECK(strcmp(made_activation_name(a), "swish") == 0);
}

static void test_dist_forms(void)
{
    made_dist d;
    char buf[32];
    CHECK_OK(made_dist_parse("categorical:7", &d));
    CHECK_EQ_INT(d.kind, MADE_DIST_CATEGORICAL);
    CHECK_EQ_INT(d.k, 7);
    made_dist_format(buf, sizeof buf, d);
    CHECK(strcmp(buf, "categorical:7") == 0);
    CHECK_STATUS(made_dist_parse("gaussian:2", &d), MADE_E_INVAL);
    CHECK_STATUS(made_dist_parse("mog", &d), MADE_E_INVAL);
    CHECK_STR_CONTAINS(made_last_error(), "needs a count");
    made_dist_format(buf, sizeof buf, (made_dist){MADE_DIST_NONE, 0});
    CHECK(strcmp(buf, "none") == 0);
}

int main(void)
{
    RUN(test_round_trips);
    RUN(test_known_spellings);
    RUN(test_aliases);
    RUN(test_dist_forms);
    return harness_summary("test_names");
}
