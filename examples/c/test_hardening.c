/*
 * test_hardening: issue 15 through the C ABI, as a host application sees it.
 *
 *   - drg_group_batch of 40,000 cases with an absurd thread count (INT_MAX,
 *     40000; before the clamp it tried 40,000 threads, failed and printed a
 *     backtrace) writes every
 *     result, returns DRG_OK and prints nothing (scripts/test-c.sh runs this
 *     program with standard error to a file and checks that file is empty);
 *   - a sex of 3 is what drg.h says: DRG_OK with an INVALID result naming
 *     the sex, in drg_group and drg_group_batch alike;
 *   - a count of codes far larger than any real case is not an allocation
 *     of that size before the first code is read (the NULL code array is
 *     refused first).
 *
 * Ends with the line "N passed, M failed" on standard output; exits non-zero
 * on a failure. Failures are reported on standard output, so that standard
 * error stays empty unless the library writes to it.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drg.h"

static int passed, failed;

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (cond) {                                                                \
            passed++;                                                              \
        } else {                                                                   \
            failed++;                                                              \
            printf("%s:%d: failed: %s (last error: %s)\n", __FILE__, __LINE__,     \
                   #cond, drg_last_error() ? drg_last_error() : "none");           \
        }                                                                          \
    } while (0)

static drg_case make_case(const char *id, int sex, const char *const *dx, size_t n_dx) {
    drg_case c;
    memset(&c, 0, sizeof c);
    c.id = id;
    c.sex = sex;
    c.age_years = 30;
    c.age_days = -1;
    c.weight_g = -1;
    c.los_days = 5;
    c.icu_hours = -1;
    c.diagnoses = dx;
    c.n_diagnoses = n_dx;
    return c;
}

static void test_absurd_threads(const drg_grouper *g) {
    static const char *dx[] = {"K35.800", "E11.900"};
    enum { N = 40000 };
    drg_case *cases = calloc(N, sizeof *cases);
    drg_result *results = calloc(N, sizeof *results);
    char(*ids)[16] = calloc(N, sizeof *ids);
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "b%d", i);
        cases[i] = make_case(ids[i], 1, dx, 2);
        results[i].status = (drg_status)-1; /* "not written" */
    }
    int thread_counts[] = {INT_MAX, 40000, -5, 0};
    for (size_t t = 0; t < sizeof thread_counts / sizeof thread_counts[0]; t++) {
        for (int i = 0; i < N; i++) results[i].status = (drg_status)-1;
        CHECK(drg_group_batch(g, cases, N, results, thread_counts[t]) == DRG_OK);
        /* every result is written, and grouped as one by one */
        drg_result one;
        CHECK(drg_group(g, &cases[0], &one) == DRG_OK);
        int written = 0;
        for (int i = 0; i < N; i++)
            written += results[i].status == one.status && strcmp(results[i].drg, one.drg) == 0;
        CHECK(written == N);
    }
    free(cases);
    free(results);
    free(ids);
}

static void test_sex_3(const drg_grouper *g) {
    static const char *dx[] = {"K35.800"};
    drg_case c = make_case("s3", 3, dx, 1);
    drg_result out;
    CHECK(drg_group(g, &c, &out) == DRG_OK);
    CHECK(out.status == DRG_STATUS_INVALID);
    CHECK(strstr(out.reason, "sex") != NULL);
    CHECK(drg_last_error() == NULL);
    drg_case batch[2] = {make_case("ok", 1, dx, 1), c};
    drg_result results[2];
    CHECK(drg_group_batch(g, batch, 2, results, 2) == DRG_OK);
    CHECK(results[0].status == DRG_STATUS_GROUPED && results[1].status == DRG_STATUS_INVALID);
}

static void test_huge_code_count(const drg_grouper *g) {
    drg_case c = make_case("n", 1, NULL, (size_t)-1);
    drg_result out;
    CHECK(drg_group(g, &c, &out) == DRG_ERROR_NULL);
    CHECK(out.status == DRG_STATUS_INVALID);
}

int main(void) {
    drg_grouper *g = drg_grouper_open_demo();
    if (g == NULL) {
        printf("cannot open the demo pack: %s\n", drg_last_error());
        return 1;
    }
    test_absurd_threads(g);
    test_sex_3(g);
    test_huge_code_count(g);
    drg_grouper_close(g);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
