/*
 * One plan executed from several POSIX threads at once (as many JVM threads
 * would): every call must give the bit-identical result of a lone call, for
 * every algorithm, with threads = 1 and with OpenMP teams inside.
 */
#include <pthread.h>
#include <stdlib.h>

#include "test_util.h"

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

int main(void)
{
    conv4j_conv_desc d = test_desc_2d(2, 13, 11, 6, 3, 3, 10);
    d.pad_before[0] = 1;
    d.pad_after[1] = 2;
    d.groups = 2;
    d.activation = CONV4J_ACTIVATION_RELU;
    const int64_t in_count = test_input_count(&d);
    const int64_t kernel_count = test_kernel_count(&d);
    const int64_t out_count = test_output_count(&d);
    float *input = malloc((size_t)in_count * sizeof(float));
    float *kernel = malloc((size_t)kernel_count * sizeof(float));
    float *bias = malloc((size_t)d.out_channels * sizeof(float));
    float *expected = malloc((size_t)out_count * sizeof(float));
    if (!input || !kernel || !bias || !expected) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    test_rng rng = {UINT64_C(0x243F6A8885A308D3)};
    for (int64_t i = 0; i < in_count; ++i) {
        input[i] = test_rng_float(&rng);
    }
    for (int64_t i = 0; i < kernel_count; ++i) {
        kernel[i] = test_rng_float(&rng);
    }
    for (int32_t i = 0; i < d.out_channels; ++i) {
        bias[i] = test_rng_float(&rng);
    }

    for (int a = 0; a < TEST_ALGORITHM_COUNT; ++a) {
        d.algorithm = test_algorithm(a);
        conv4j_plan *plan = NULL;
        CHECK_STATUS(conv4j_plan_create(&d, kernel, bias, &plan), CONV4J_OK);
        if (plan == NULL) {
            continue;
        }
        CHECK_STATUS(conv4j_plan_execute(plan, input, expected, NULL, 0, 1), CONV4J_OK);
        for (int32_t threads = 1; threads <= 2; ++threads) {
            job jobs[WORKERS];
            pthread_t ids[WORKERS];
            int started[WORKERS] = {0};
            for (int w = 0; w < WORKERS; ++w) {
                jobs[w] = (job){plan, input, expected, out_count, threads, 0, 0};
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
    free(input);
    free(kernel);
    free(bias);
    free(expected);
    return test_summary("test_concurrent_execute");
}
