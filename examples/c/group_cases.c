/*
 * group_cases: group a CSV of cases (the columns of specs/cases.md) through
 * libdrg, from one or several threads sharing one grouper, and print
 * id,status,mdc,adrg,drg for every row, in input order.
 *
 *   group_cases PACK_DIR|--demo CASES.csv [THREADS]
 *
 * Written only from include/drg.h and the README; build with
 *   gcc -std=c11 -Wall -Wextra -Werror -pthread -I include examples/c/group_cases.c \
 *       -L target/release -ldrg -Wl,-rpath,$PWD/target/release -o group_cases
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drg.h"

/* One input row: the strings a drg_case points to, owned here. */
typedef struct row {
    char **fields;      /* the row's fields, by column */
    size_t n_fields;
    char **diagnoses;   /* pieces of the diagnoses field */
    size_t n_diagnoses;
    char **procedures;
    size_t n_procedures;
    drg_case c;
} row;

/* Splits one CSV line into fields (quotes and "" escapes are handled; a
 * quoted field does not span lines in these files). */
static char **split_csv(const char *line, size_t *n_out) {
    size_t cap = 16, n = 0;
    char **fields = malloc(cap * sizeof *fields);
    const char *p = line;
    for (;;) {
        char *field = malloc(strlen(p) + 1);
        size_t len = 0;
        if (*p == '"') {
            p++;
            while (*p) {
                if (*p == '"' && p[1] == '"') { field[len++] = '"'; p += 2; }
                else if (*p == '"') { p++; break; }
                else field[len++] = *p++;
            }
        }
        while (*p && *p != ',' && *p != '\n' && *p != '\r') field[len++] = *p++;
        field[len] = '\0';
        if (n == cap) fields = realloc(fields, (cap *= 2) * sizeof *fields);
        fields[n++] = field;
        if (*p != ',') break;
        p++;
    }
    *n_out = n;
    return fields;
}

/* Splits a code field at '|' into newly allocated strings. */
static char **split_codes(const char *field, size_t *n_out) {
    size_t n = 0, cap = 4;
    char **codes = malloc(cap * sizeof *codes);
    const char *start = field;
    for (const char *p = field;; p++) {
        if (*p == '|' || *p == '\0') {
            if (p > start) {
                if (n == cap) codes = realloc(codes, (cap *= 2) * sizeof *codes);
                codes[n] = malloc((size_t)(p - start) + 1);
                memcpy(codes[n], start, (size_t)(p - start));
                codes[n][p - start] = '\0';
                n++;
            }
            if (*p == '\0') break;
            start = p + 1;
        }
    }
    *n_out = n;
    return codes;
}

static int column(char **header, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(header[i], name) == 0) return (int)i;
    return -1;
}

/* An integer field; -1 when empty (missing). */
static int int_field(const row *r, int col) {
    if (col < 0 || (size_t)col >= r->n_fields || r->fields[col][0] == '\0') return -1;
    return atoi(r->fields[col]);
}

static const char *text_field(const row *r, int col) {
    if (col < 0 || (size_t)col >= r->n_fields || r->fields[col][0] == '\0') return NULL;
    return r->fields[col];
}

/* The struct API takes sex as 0 (missing), 1 (male) or 2 (female); any other
 * value makes the case invalid, as an unknown spelling should. */
static int sex_code(const char *sex) {
    if (sex == NULL) return 0;
    if (!strcmp(sex, "1") || !strcmp(sex, "M") || !strcmp(sex, "m") || !strcmp(sex, "男")) return 1;
    if (!strcmp(sex, "2") || !strcmp(sex, "F") || !strcmp(sex, "f") || !strcmp(sex, "女")) return 2;
    return 9;
}

typedef struct job {
    const drg_grouper *grouper;
    row *rows;
    drg_result *results;
    size_t n, first, step;
    int failed;
} job;

/* Groups rows first, first + step, … */
static void *group_rows(void *arg) {
    job *j = arg;
    for (size_t i = j->first; i < j->n; i += j->step) {
        if (drg_group(j->grouper, &j->rows[i].c, &j->results[i]) != DRG_OK) {
            fprintf(stderr, "row %zu: %s\n", i + 1, drg_last_error());
            j->failed = 1;
        }
    }
    return NULL;
}

static const char *status_name(drg_status s) {
    switch (s) {
    case DRG_STATUS_GROUPED: return "grouped";
    case DRG_STATUS_UNGROUPABLE: return "ungroupable";
    case DRG_STATUS_AMBIGUOUS: return "ambiguous";
    default: return "invalid";
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s PACK_DIR|--demo CASES.csv [THREADS]\n", argv[0]);
        return 2;
    }
    int threads = argc > 3 ? atoi(argv[3]) : 1;
    if (threads < 1) threads = 1;

    drg_grouper *g = strcmp(argv[1], "--demo") == 0 ? drg_grouper_open_demo() : drg_grouper_open(argv[1]);
    if (g == NULL) {
        fprintf(stderr, "cannot open the pack: %s\n", drg_last_error());
        return 1;
    }

    FILE *in = fopen(argv[2], "r");
    if (in == NULL) {
        perror(argv[2]);
        drg_grouper_close(g);
        return 1;
    }
    char *line = NULL;
    size_t line_cap = 0;
    if (getline(&line, &line_cap, in) < 0) {
        fprintf(stderr, "%s: empty\n", argv[2]);
        return 1;
    }
    size_t n_header;
    char **header = split_csv(line, &n_header);
    int c_id = column(header, n_header, "id"), c_sex = column(header, n_header, "sex"),
        c_age = column(header, n_header, "age_years"), c_days = column(header, n_header, "age_days"),
        c_weight = column(header, n_header, "weight_g"), c_los = column(header, n_header, "los_days"),
        c_discharge = column(header, n_header, "discharge"), c_dept = column(header, n_header, "dept"),
        c_dx = column(header, n_header, "diagnoses"), c_proc = column(header, n_header, "procedures");

    size_t n = 0, cap = 1024;
    row *rows = malloc(cap * sizeof *rows);
    while (getline(&line, &line_cap, in) >= 0) {
        if (n == cap) rows = realloc(rows, (cap *= 2) * sizeof *rows);
        row *r = &rows[n++];
        memset(r, 0, sizeof *r);
        r->fields = split_csv(line, &r->n_fields);
        const char *dx = text_field(r, c_dx), *proc = text_field(r, c_proc);
        r->diagnoses = split_codes(dx ? dx : "", &r->n_diagnoses);
        r->procedures = split_codes(proc ? proc : "", &r->n_procedures);
        const char *sex = text_field(r, c_sex);
        r->c.id = text_field(r, c_id);
        r->c.sex = sex_code(sex);
        r->c.age_years = int_field(r, c_age);
        r->c.age_days = int_field(r, c_days);
        r->c.weight_g = int_field(r, c_weight);
        r->c.los_days = int_field(r, c_los);
        r->c.discharge = text_field(r, c_discharge);
        r->c.dept = text_field(r, c_dept);
        r->c.icu_hours = -1;
        r->c.diagnoses = (const char *const *)r->diagnoses;
        r->c.n_diagnoses = r->n_diagnoses;
        r->c.procedures = (const char *const *)r->procedures;
        r->c.n_procedures = r->n_procedures;
    }
    fclose(in);
    free(line);

    drg_result *results = calloc(n ? n : 1, sizeof *results);
    pthread_t *tids = malloc((size_t)threads * sizeof *tids);
    job *jobs = malloc((size_t)threads * sizeof *jobs);
    int failed = 0;
    for (int t = 0; t < threads; t++) {
        jobs[t] = (job){g, rows, results, n, (size_t)t, (size_t)threads, 0};
        pthread_create(&tids[t], NULL, group_rows, &jobs[t]);
    }
    for (int t = 0; t < threads; t++) {
        pthread_join(tids[t], NULL);
        failed |= jobs[t].failed;
    }

    printf("id,status,mdc,adrg,drg\n");
    for (size_t i = 0; i < n; i++) {
        const char *id = rows[i].c.id ? rows[i].c.id : "";
        printf("%s,%s,%s,%s,%s\n", id, status_name(results[i].status), results[i].mdc, results[i].adrg,
               results[i].drg);
    }

    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < rows[i].n_fields; k++) free(rows[i].fields[k]);
        for (size_t k = 0; k < rows[i].n_diagnoses; k++) free(rows[i].diagnoses[k]);
        for (size_t k = 0; k < rows[i].n_procedures; k++) free(rows[i].procedures[k]);
        free(rows[i].fields);
        free(rows[i].diagnoses);
        free(rows[i].procedures);
    }
    for (size_t k = 0; k < n_header; k++) free(header[k]);
    free(header);
    free(rows);
    free(results);
    free(tids);
    free(jobs);
    drg_grouper_close(g);
    return failed;
}
