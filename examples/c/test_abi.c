/*
 * test_abi: checks the C ABI of libdrg from C, as a HIS vendor's code calls
 * it: NULL and bad arguments give an error code and a message (never a
 * crash), JSON and struct calls agree, a batch equals one-by-one calls, many
 * threads share one grouper, and points are scored. Run it under valgrind.
 *
 *   test_abi WORK_DIR      (a writable directory for the points files)
 *
 * Ends with the line "N passed, M failed"; exits non-zero on a failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
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
            fprintf(stderr, "%s:%d: failed: %s (last error: %s)\n", __FILE__,      \
                    __LINE__, #cond, drg_last_error() ? drg_last_error() : "none"); \
        }                                                                          \
    } while (0)

static int contains(const char *s, const char *part) { return s != NULL && strstr(s, part) != NULL; }

static drg_case make_case(const char *id, int sex, int age, const char *const *dx, size_t n_dx,
                          const char *const *proc, size_t n_proc) {
    drg_case c;
    memset(&c, 0, sizeof c);
    c.id = id;
    c.sex = sex;
    c.age_years = age;
    c.age_days = age * 365;
    c.weight_g = -1;
    c.los_days = 5;
    c.icu_hours = -1;
    c.diagnoses = dx;
    c.n_diagnoses = n_dx;
    c.procedures = proc;
    c.n_procedures = n_proc;
    return c;
}

static void test_opening(void) {
    CHECK(drg_version() != NULL && drg_version()[0] >= '0' && drg_version()[0] <= '9');
    CHECK(drg_grouper_open(NULL) == NULL);
    CHECK(contains(drg_last_error(), "NULL"));
    CHECK(drg_grouper_open("/no/such/pack") == NULL);
    CHECK(contains(drg_last_error(), "/no/such/pack"));
    CHECK(drg_grouper_open("/etc/hostname") == NULL);
    CHECK(contains(drg_last_error(), "is a file"));
    const char bad_utf8[] = {'/', 't', 'm', 'p', '/', (char)0xff, (char)0xfe, 0};
    CHECK(drg_grouper_open(bad_utf8) == NULL);
    CHECK(contains(drg_last_error(), "UTF-8"));
    drg_grouper_close(NULL);
    drg_string_free(NULL);
    drg_points_close(NULL);
    CHECK(drg_grouper_info_json(NULL) == NULL);
}

static void test_json(const drg_grouper *g) {
    char *info = drg_grouper_info_json(g);
    CHECK(contains(info, "\"id\":\"drg-demo\""));
    drg_string_free(info);
    CHECK(drg_last_error() == NULL); /* cleared by a successful call */

    char *r = drg_group_json(g,
                             "{\"id\":\"j1\",\"sex\":\"1\",\"age_years\":30,"
                             "\"diagnoses\":[\"K35.800\",\"E11.900\"],\"procedures\":[\"47.0901\"]}",
                             1);
    CHECK(contains(r, "\"status\":\"grouped\""));
    CHECK(contains(r, "\"drg\":\"GC23\""));
    CHECK(contains(r, "\"trace\":["));
    drg_string_free(r);

    r = drg_group_json(g, "{\"id\":\"j2\",\"sex\":\"男\",\"age_years\":true,\"diagnoses\":\"K35.800\"}", 0);
    CHECK(contains(r, "\"status\":\"invalid\"") && contains(r, "age_years"));
    CHECK(!contains(r, "\"trace\""));
    drg_string_free(r);

    CHECK(drg_group_json(NULL, "{}", 0) == NULL);
    CHECK(contains(drg_last_error(), "NULL"));
    CHECK(drg_group_json(g, NULL, 0) == NULL);
    CHECK(drg_group_json(g, "{\"id\": ", 0) == NULL);
    CHECK(contains(drg_last_error(), "case_json"));
    CHECK(drg_group_json(g, "[1, 2]", 0) == NULL);
    CHECK(contains(drg_last_error(), "not a JSON object"));
    const char bad_json_utf8[] = {'{', '"', (char)0xc3, '"', ':', '1', '}', 0};
    CHECK(drg_group_json(g, bad_json_utf8, 0) == NULL);
    CHECK(contains(drg_last_error(), "UTF-8"));
}

static void test_struct_calls(const drg_grouper *g) {
    const char *dx[] = {"K35.800", "E11.900"};
    const char *proc[] = {"47.0901"};
    drg_case c = make_case("s1", 1, 30, dx, 2, proc, 1);
    drg_result out;
    CHECK(drg_group(g, &c, &out) == DRG_OK);
    CHECK(out.status == DRG_STATUS_GROUPED);
    CHECK(strcmp(out.mdc, "MDCG") == 0 && strcmp(out.adrg, "GC2") == 0 && strcmp(out.drg, "GC23") == 0);
    CHECK(contains(out.drg_name, "阑尾切除术"));
    CHECK(out.reason[0] == '\0' && out.n_warnings == 0);

    CHECK(drg_group(NULL, &c, &out) == DRG_ERROR_NULL);
    CHECK(drg_group(g, NULL, &out) == DRG_ERROR_NULL);
    CHECK(drg_group(g, &c, NULL) == DRG_ERROR_NULL);

    drg_case no_array = make_case("s2", 1, 30, NULL, 2, NULL, 0);
    CHECK(drg_group(g, &no_array, &out) == DRG_ERROR_NULL);
    CHECK(out.status == DRG_STATUS_INVALID);

    const char bad[] = {'K', (char)0xff, 0};
    const char *bad_dx[] = {"K35.800", bad};
    drg_case bad_code = make_case("s3", 1, 30, bad_dx, 2, NULL, 0);
    CHECK(drg_group(g, &bad_code, &out) == DRG_ERROR_UTF8);
    CHECK(out.status == DRG_STATUS_INVALID && contains(out.reason, "diagnoses[1]"));

    drg_case bad_sex = make_case("s4", 7, 30, dx, 2, NULL, 0);
    CHECK(drg_group(g, &bad_sex, &out) == DRG_OK);
    CHECK(out.status == DRG_STATUS_INVALID && contains(out.reason, "sex"));

    drg_case missing = make_case(NULL, 0, -1, NULL, 0, NULL, 0);
    CHECK(drg_group(g, &missing, &out) == DRG_OK);
    CHECK(out.status == DRG_STATUS_INVALID && contains(out.reason, "id: missing") && contains(out.reason, "sex: missing"));

    const char *unknown_dx[] = {"N18.500"};
    drg_case unknown = make_case("s5", 2, 50, unknown_dx, 1, NULL, 0);
    CHECK(drg_group(g, &unknown, &out) == DRG_OK);
    CHECK(out.status == DRG_STATUS_UNGROUPABLE && out.n_warnings == 1 && out.drg_name == NULL);

    const char *newborn_dx[] = {"P07.100"};
    drg_case newborn = make_case("s6", 2, 0, newborn_dx, 1, NULL, 0);
    newborn.age_days = 3;
    newborn.weight_g = 1800;
    CHECK(drg_group(g, &newborn, &out) == DRG_OK && strcmp(out.drg, "PS29") == 0);
}

/* The same mix of cases for the batch and the thread tests. */
#define N_MIX 600
static const char *mix_dx[][3] = {
    {"K35.800", "E11.900", NULL}, {"J18.900", "J96.000", NULL}, {"I10.x05", NULL, NULL},
    {"N18.500", NULL, NULL},      {"K80.100", "I50.900", NULL}, {"j44.100", "i10.x00", "e11.900"},
};
static const char *mix_proc[][2] = {{"47.0901", NULL}, {NULL, NULL}, {NULL, NULL},
                                    {NULL, NULL},      {"51.2300", NULL}, {NULL, NULL}};
static drg_case mix[N_MIX];
static char mix_ids[N_MIX][16];

static void make_mix(void) {
    for (int i = 0; i < N_MIX; i++) {
        int k = i % 6;
        size_t n_dx = 0, n_proc = 0;
        while (n_dx < 3 && mix_dx[k][n_dx]) n_dx++;
        while (n_proc < 2 && mix_proc[k][n_proc]) n_proc++;
        snprintf(mix_ids[i], sizeof mix_ids[i], "m%d", i);
        mix[i] = make_case(mix_ids[i], 1 + i % 2, 20 + i % 70, mix_dx[k], n_dx, mix_proc[k], n_proc);
    }
}

static int same_result(const drg_result *a, const drg_result *b) {
    return a->status == b->status && strcmp(a->mdc, b->mdc) == 0 && strcmp(a->adrg, b->adrg) == 0 &&
           strcmp(a->drg, b->drg) == 0 && strcmp(a->reason, b->reason) == 0 && a->drg_name == b->drg_name;
}

static void test_batch(const drg_grouper *g) {
    static drg_result one[N_MIX], batch[N_MIX];
    for (int i = 0; i < N_MIX; i++) CHECK(drg_group(g, &mix[i], &one[i]) == DRG_OK);
    CHECK(drg_group_batch(g, mix, N_MIX, batch, 3) == DRG_OK);
    int all_same = 1;
    for (int i = 0; i < N_MIX; i++) all_same &= same_result(&one[i], &batch[i]);
    CHECK(all_same);
    CHECK(drg_group_batch(g, mix, N_MIX, batch, 0) == DRG_OK);
    CHECK(drg_group_batch(g, NULL, 0, NULL, 0) == DRG_OK);
    CHECK(drg_group_batch(g, NULL, 5, batch, 0) == DRG_ERROR_NULL);

    /* One bad case: its result is invalid, the others are grouped. */
    const char bad[] = {(char)0xff, 0};
    const char *bad_dx[] = {bad};
    drg_case three[3] = {mix[0], make_case("bad", 1, 30, bad_dx, 1, NULL, 0), mix[4]};
    drg_result three_out[3];
    CHECK(drg_group_batch(g, three, 3, three_out, 2) == DRG_ERROR_UTF8);
    CHECK(contains(drg_last_error(), "case 1"));
    CHECK(three_out[0].status == DRG_STATUS_GROUPED && three_out[1].status == DRG_STATUS_INVALID &&
          three_out[2].status == DRG_STATUS_GROUPED);
}

typedef struct thread_job {
    const drg_grouper *g;
    const drg_result *reference;
    int mismatches;
} thread_job;

static void *group_in_thread(void *arg) {
    thread_job *job = arg;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N_MIX; i++) {
            drg_result r;
            if (drg_group(job->g, &mix[i], &r) != DRG_OK || !same_result(&r, &job->reference[i])) job->mismatches++;
        }
        char *json = drg_group_json(job->g, "{\"id\":\"t\",\"sex\":2,\"age_years\":60,\"diagnoses\":\"J18.900\"}", 1);
        if (!contains(json, "\"drg\":\"ES25\"")) job->mismatches++;
        drg_string_free(json);
        /* Errors are per thread: this one must not leak into another thread. */
        if (drg_group_json(job->g, "not json", 0) != NULL || !contains(drg_last_error(), "case_json")) job->mismatches++;
    }
    return NULL;
}

static void test_threads(const drg_grouper *g) {
    static drg_result reference[N_MIX];
    for (int i = 0; i < N_MIX; i++) drg_group(g, &mix[i], &reference[i]);
    enum { THREADS = 8 };
    pthread_t tids[THREADS];
    thread_job jobs[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (thread_job){g, reference, 0};
        CHECK(pthread_create(&tids[t], NULL, group_in_thread, &jobs[t]) == 0);
    }
    int mismatches = 0;
    for (int t = 0; t < THREADS; t++) {
        pthread_join(tids[t], NULL);
        mismatches += jobs[t].mismatches;
    }
    CHECK(mismatches == 0);
}

static int write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f == NULL) return 0;
    fputs(text, f);
    return fclose(f) == 0;
}

static void test_points(const char *dir) {
    char policy[1024], weights[1024], bad_policy[1024];
    snprintf(policy, sizeof policy, "%s/policy.toml", dir);
    snprintf(weights, sizeof weights, "%s/weights.csv", dir);
    snprintf(bad_policy, sizeof bad_policy, "%s/bad.toml", dir);
    CHECK(write_file(policy, "[coefficients]\nhospital = { \"H9\" = 1.05 }\n"));
    CHECK(write_file(bad_policy, "[settlement]\nbudget = -5\n"));
    CHECK(write_file(weights,
                     "drg,n,kept,avg_cost,weight,base_points,unstable\n"
                     "GC23,10,10,10000.00,1.000000,100.0000,false\n"
                     "*,10,10,10000.00,1.000000,100.0000,false\n"));

    CHECK(drg_points_open(NULL, weights) == NULL);
    CHECK(drg_points_open(bad_policy, weights) == NULL);
    CHECK(contains(drg_last_error(), "settlement.budget"));
    CHECK(drg_points_open(policy, "/no/such/weights.csv") == NULL);
    drg_points *p = drg_points_open(policy, weights);
    CHECK(p != NULL);
    if (p == NULL) return;

    drg_score s;
    drg_points_case c = {"H1", "2", "GC23", 10000.0};
    CHECK(drg_points_score(p, &c, &s) == DRG_OK);
    CHECK(s.category == DRG_CATEGORY_NORMAL && s.coef == 0.92 && s.points > 91.99 && s.points < 92.01);
    c.hospital = "H9";
    CHECK(drg_points_score(p, &c, &s) == DRG_OK && s.coef == 1.05);
    c.total_cost = 40000.0; /* 4 times the average, base points 100: high (multiple 3) */
    CHECK(drg_points_score(p, &c, &s) == DRG_OK && s.category == DRG_CATEGORY_HIGH);
    c.total_cost = 3000.0;
    CHECK(drg_points_score(p, &c, &s) == DRG_OK && s.category == DRG_CATEGORY_LOW);
    drg_points_case ungrouped = {NULL, NULL, NULL, 5000.0};
    CHECK(drg_points_score(p, &ungrouped, &s) == DRG_OK && s.category == DRG_CATEGORY_UNGROUPED && s.points == 50.0);
    c.total_cost = -1.0;
    CHECK(drg_points_score(p, &c, &s) == DRG_ERROR_ARGUMENT);
    CHECK(drg_points_score(NULL, &c, &s) == DRG_ERROR_NULL);
    drg_points_close(p);
}

/* Per-diem scoring (specs/perdiem.md): a 200-day psychiatric stay. */
static void test_perdiem(const char *dir) {
    char policy[1024], weights[1024], perdiem[1024];
    snprintf(policy, sizeof policy, "%s/perdiem.toml", dir);
    snprintf(weights, sizeof weights, "%s/weights.csv", dir);
    snprintf(perdiem, sizeof perdiem, "%s/perdiem.csv", dir);
    CHECK(write_file(policy, "[coefficients]\nhospital = { \"H9\" = 1.05 }\n"
                             "[perdiem]\n[[perdiem.categories]]\ncode = \"PSY\"\ndiagnoses = [\"F20\"]\n"
                             "segments = [[60, 1.0], [180, 0.85], [1e308, 0.7]]\n"));
    CHECK(write_file(perdiem, "category,name,n,kept,days,daily_cost,avg_los,bedday_points\n"
                              "PSY,psychiatry,10,10,400,500.00,40.00,5.0000\n"));
    CHECK(drg_abi_version() == DRG_ABI_VERSION && DRG_ABI_VERSION >= 2);
    CHECK(drg_points_open_perdiem(policy, weights, NULL) == NULL);
    CHECK(contains(drg_last_error(), "per-diem"));
    drg_points *p = drg_points_open_perdiem(policy, weights, perdiem);
    CHECK(p != NULL);
    if (p == NULL) return;
    drg_stay_score s;
    drg_points_stay c = {"H9", "3", "GC23", 90000.0, "精神科", "f20.000|I10", 200, 0};
    CHECK(drg_points_score_stay(p, &c, &s) == DRG_OK);
    /* 60 + 120 × 0.85 + 20 × 0.7 = 176 paid days at 5 points, coefficient 1.05 */
    CHECK(s.category == DRG_CATEGORY_PERDIEM && strcmp(s.code, "PSY") == 0);
    CHECK(s.base_points > 879.999 && s.base_points < 880.001 && s.coef == 1.05);
    c.diagnoses = "I10";
    c.total_cost = 10000.0;
    CHECK(drg_points_score_stay(p, &c, &s) == DRG_OK && s.category == DRG_CATEGORY_NORMAL && strcmp(s.code, "GC23") == 0);
    c.diagnoses = "F20.000";
    c.invalid = 1;
    CHECK(drg_points_score_stay(p, &c, &s) == DRG_OK && s.category != DRG_CATEGORY_PERDIEM);
    c.invalid = 0;
    c.total_cost = -1.0;
    CHECK(drg_points_score_stay(p, &c, &s) == DRG_ERROR_ARGUMENT);
    CHECK(drg_points_score_stay(p, NULL, &s) == DRG_ERROR_NULL);
    drg_points_close(p);
}

/* Hostile input: huge fields, many codes, NUL escapes, odd numbers, deep JSON. */
static void test_hostile(const drg_grouper *g) {
    size_t big = 10u << 20;
    char *json = malloc(big + 128);
    strcpy(json, "{\"id\":\"big\",\"sex\":1,\"age_years\":30,\"diagnoses\":[\"");
    size_t at = strlen(json);
    memset(json + at, 'K', big);
    strcpy(json + at + big, "\"]}");
    char *r = drg_group_json(g, json, 0);
    CHECK(contains(r, "\"status\":\"ungroupable\"") && r != NULL && strlen(r) < 2000);
    drg_string_free(r);

    /* A deeply nested JSON value is refused, not a stack overflow. */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 64);
    strcpy(deep, "{\"id\":\"d\",\"x\":");
    at = strlen(deep);
    memset(deep + at, '[', depth);
    memset(deep + at + depth, ']', depth);
    strcpy(deep + at + 2 * depth, "}");
    CHECK(drg_group_json(g, deep, 0) == NULL && contains(drg_last_error(), "recursion limit"));
    free(deep);
    free(json);

    r = drg_group_json(g, "{\"id\":\"n\",\"sex\":1,\"age_years\":30,\"diagnoses\":[\"K35.800\\u0000\"]}", 0);
    CHECK(contains(r, "\"drg\":\"GU15\""));
    drg_string_free(r);
    r = drg_group_json(g, "{\"id\":\"e\",\"sex\":1,\"age_years\":1e999,\"diagnoses\":\"K35.800\"}", 0);
    CHECK(r == NULL && contains(drg_last_error(), "case_json"));
    r = drg_group_json(g, "{\"id\":\"w\",\"sex\":\"１\",\"age_years\":\"３０\",\"diagnoses\":\"K35.800\"}", 0);
    CHECK(contains(r, "\"drg\":\"GU15\""));
    drg_string_free(r);

    /* 10,000 diagnoses through the struct call. */
    enum { MANY = 10000 };
    const char **dx = malloc(MANY * sizeof *dx);
    dx[0] = "K35.800";
    for (int i = 1; i < MANY; i++) dx[i] = "E11.900";
    drg_case c = make_case("many", 1, 30, dx, MANY, NULL, 0);
    drg_result out;
    CHECK(drg_group(g, &c, &out) == DRG_OK && strcmp(out.drg, "GU13") == 0);
    free(dx);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s WORK_DIR\n", argv[0]);
        return 2;
    }
    test_opening();
    drg_grouper *g = drg_grouper_open_demo();
    CHECK(g != NULL);
    if (g != NULL) {
        make_mix();
        test_json(g);
        test_struct_calls(g);
        test_batch(g);
        test_threads(g);
        test_hostile(g);
        drg_grouper_close(g);
    }
    test_points(argv[1]);
    test_perdiem(argv[1]);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
