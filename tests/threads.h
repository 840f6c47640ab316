/*
 * threads.h - makes a test's "same bits with two threads" check real.
 *
 * made__threads_for keeps a pass on fewer threads than asked when each would
 * get little work (net/network.h), so a test's small batch would run on one
 * thread and compare one thread with itself. These calls make a model, or
 * every network of a flow, share any batch among all the threads it is given.
 */
#ifndef MADE_TEST_THREADS_H
#define MADE_TEST_THREADS_H

#include "made.h"
#include "net/model.h"

static inline void share_any_batch(made_model *m) { m->min_thread_work = 0; }

static inline void flow_share_any_batch(made_flow *f)
{
    made_model *m;
    for (int k = 0; (m = made_flow_layer(f, k)) != NULL; k++) share_any_batch(m);
}

#endif
