/*
 * One plan executed from several POSIX threads at once (as many JVM threads
 * would): every call must give the bit-identical result of a lone call, for
 * every algorithm, with threads = 1 and with OpenMP teams inside.
 */
#include <pthread.h>
#include <stdlib.h>

#include "test_util.h"
#include "test_config.h"

#define WORKERS 4
#define CALLS_PER_WORKER 25

typedef struct job {
    const conv4j_plan *plan;
    const float *input;
    const float *expected;
    int64_t count;
    int32_t threads;
    int mismatches;
    int failed_calls;
} job;

static void *worker(void *argument)
{
    job *j = argument;
    float *output = malloc((size_t)j->count * sizeof(float));
    if (output == NULL) {
        j->failed_calls = CALLS_PER_WORKER;
        return NULL;
    }
    for (int call = 0; call < CALLS_PER_WORKER; ++call) {
        if (conv4j_plan_execute(j->plan, j->input, output, NULL, 0, j->threads) != CONV4J_OK) {
            ++j->failed_calls;
        } else if (memcmp(output, j->expected, (size_t)j->count * sizeof(float)) != 0) {
            ++j->mismatches;
        }
    }
    free(output);
    return NULL;
}

/* Runs every algorithm that accepts d from WORKERS threads at once; counts
 * the algorithms that took it in accepted. */
static void check_descriptor(conv4j_conv_desc d, test_rng *rng, int accepted[])
{
    test_conv_buffers b;
    if (test_conv_buffers_alloc(&b, &d) != 0) {
        CHECK(0, "out of memory");
        return;
    }
    test_conv_buffers_fill(&b, rng);
    float *expected = b.output; /* a lone call's result */

    for (int a = 0; a < TEST_ALGORITHM_COUNT; ++a) {
        d.algorithm = test_algorithm(a);
        conv4j_plan *plan = test_plan_or_refusal(&d, b.kernel, b.bias);
        if (plan == NULL) {
            continue;
        }
        ++accepted[a];
        CHECK_STATUS(conv4j_plan_execute(plan, b.input, expected, NULL, 0, 1), CONV4J_OK);
        for (int32_t threads = 1; threads <= 2; ++threads) {
            job jobs[WORKERS];
            pthread_t ids[WORKERS];
            int started[WORKERS] = {0};
            for (int w = 0; w < WORKERS; ++w) {
                jobs[w] = (job){plan, b.input, expected, b.output_count, threads, 0, 0};
                started[w] = pthread_create(&ids[w], NULL, worker, &jobs[w]) == 0;
                CHECK(started[w], "pthread_create failed");
            }
            for (int w = 0; w < WORKERS; ++w) {
                if (started[w]) {
                    pthread_join(ids[w], NULL);
                    CHECK(jobs[w].failed_calls == 0 && jobs[w].mismatches == 0,
                          "%s threads=%d worker %d: %d failed calls, %d mismatches",
                          conv4j_algorithm_name(d.algorithm), (int)threads, w,
                          jobs[w].failed_calls, jobs[w].mismatches);
                }
            }
        }
        conv4j_plan_destroy(plan);
    }
    test_conv_buffers_free(&b);
}

int main(void)
{
    if (!test_use_config()) {
        return TEST_SKIPPED;
    }
    test_rng rng = {UINT64_C(0x243F6A8885A308D3)};
    int accepted[TEST_ALGORITHM_COUNT] = {0};

    conv4j_conv_desc grouped = test_desc_2d(2, 13, 11, 6, 3, 3, 10);
    grouped.pad_before[0] = 1;
    grouped.pad_after[1] = 2;
    grouped.groups = 2;
    grouped.activation = CONV4J_ACTIVATION_RELU;
    check_descriptor(grouped, &rng, accepted);

    /* Shapes the specialized kernels take, with channel tails, in both layouts. */
    for (int layout = 0; layout < 2; ++layout) {
        conv4j_conv_desc depthwise = test_desc_2d(2, 9, 11, 19, 3, 3, 19);
        depthwise.groups = 19;
        depthwise.pad_before[0] = depthwise.pad_before[1] = 1;
        depthwise.pad_after[0] = depthwise.pad_after[1] = 1;
        depthwise.layout = layout;
        check_descriptor(depthwise, &rng, accepted);

        conv4j_conv_desc dense = test_desc_2d(1, 7, 9, 17, 3, 3, 24);
        dense.pad_before[0] = dense.pad_before[1] = 1;
        dense.pad_after[0] = dense.pad_after[1] = 1;
        dense.activation = CONV4J_ACTIVATION_RELU;
        dense.layout = layout;
        check_descriptor(dense, &rng, accepted);

        conv4j_conv_desc pointwise = test_desc_2d(2, 5, 6, 33, 1, 1, 17);
        pointwise.layout = layout;
        check_descriptor(pointwise, &rng, accepted);
    }

    for (int a = 0; a < TEST_ALGORITHM_COUNT; ++a) {
        CHECK(accepted[a] > 0, "%s accepted none of the shapes",
              conv4j_algorithm_name(test_algorithm(a)));
    }
    return test_summary("test_concurrent_execute");
}
