/*
 * DIP from C: opens a published catalogue with its policy and pack, groups
 * and scores every case of a period CSV (the columns of specs/cases.md, codes
 * joined by '|', no quoted fields) on N threads sharing one drg_dip handle,
 * and prints, in input order:
 *
 *   id,status,group,severity,category,points
 *
 * (category and points empty for a case without a total_cost above 0). Also
 * checks the JSON call and the refusal of a bad catalogue.
 *
 *   dip_cases POLICY CATALOGUE PACK PERIOD.csv THREADS
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drg.h"

#define MAX_CODES 64
#define MAX_FIELDS 32

typedef struct {
    char *fields[MAX_FIELDS];
    const char *dx[MAX_CODES];
    const char *px[MAX_CODES];
    drg_dip_case c;
    drg_dip_result r;
    int rc;
} row;

typedef struct {
    const drg_dip *dip;
    row *rows;
    size_t from, to;
} share;

static int column(char **names, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0) return i;
    fprintf(stderr, "no column %s\n", name);
    exit(2);
}

static int split(char *line, char sep, char **out, int max) {
    int n = 0;
    out[n++] = line;
    for (char *p = line; *p; p++) {
        if (*p == '\r' || *p == '\n') { *p = 0; break; }
        if (*p == sep) {
            *p = 0;
            if (n < max) out[n++] = p + 1;
        }
    }
    return n;
}

static int integer(const char *s) { return *s ? atoi(s) : -1; }

static void *work(void *arg) {
    share *s = arg;
    for (size_t i = s->from; i < s->to; i++) s->rows[i].rc = drg_dip_group(s->dip, &s->rows[i].c, &s->rows[i].r);
    return NULL;
}

static const char *status_name(drg_dip_status s) {
    switch (s) {
    case DRG_DIP_CORE: return "core";
    case DRG_DIP_COMPREHENSIVE: return "comprehensive";
    case DRG_DIP_UNGROUPED: return "ungrouped";
    default: return "invalid";
    }
}

static const char *category_name(drg_category c) {
    switch (c) {
    case DRG_CATEGORY_NORMAL: return "normal";
    case DRG_CATEGORY_HIGH: return "high";
    case DRG_CATEGORY_LOW: return "low";
    default: return "ungrouped";
    }
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: dip_cases POLICY CATALOGUE PACK PERIOD.csv THREADS\n");
        return 2;
    }
    /* A bad catalogue is refused, naming the file. */
    if (drg_dip_open(argv[1], argv[4], argv[3]) != NULL || strstr(drg_last_error(), argv[4]) == NULL) {
        fprintf(stderr, "a period file opened as a catalogue\n");
        return 1;
    }
    drg_dip *dip = drg_dip_open(argv[1], argv[2], argv[3]);
    if (!dip) {
        fprintf(stderr, "drg_dip_open: %s\n", drg_last_error());
        return 1;
    }
    FILE *f = fopen(argv[4], "r");
    if (!f) { perror(argv[4]); return 2; }
    size_t cap = 1024, n = 0;
    row *rows = calloc(cap, sizeof(row));
    char *names[MAX_FIELDS];
    char *line = NULL;
    size_t len = 0;
    if (getline(&line, &len, f) < 0) return 2;
    char *header = strdup(line);
    int nnames = split(header, ',', names, MAX_FIELDS);
    int c_id = column(names, nnames, "id"), c_h = column(names, nnames, "hospital"),
        c_l = column(names, nnames, "hospital_level"), c_sex = column(names, nnames, "sex"),
        c_age = column(names, nnames, "age_years"), c_days = column(names, nnames, "age_days"),
        c_w = column(names, nnames, "weight_g"), c_los = column(names, nnames, "los_days"),
        c_cost = column(names, nnames, "total_cost"), c_dx = column(names, nnames, "diagnoses"),
        c_px = column(names, nnames, "procedures");
    while (getline(&line, &len, f) > 0) {
        if (n == cap) {
            cap *= 2;
            rows = realloc(rows, cap * sizeof(row));
        }
        row *r = &rows[n++];
        memset(r, 0, sizeof(row));
        char *copy = strdup(line);
        split(copy, ',', r->fields, MAX_FIELDS);
        drg_case *c = &r->c.base;
        c->id = r->fields[c_id];
        c->sex = integer(r->fields[c_sex]);
        if (c->sex < 0) c->sex = 0;
        c->age_years = integer(r->fields[c_age]);
        c->age_days = integer(r->fields[c_days]);
        c->weight_g = integer(r->fields[c_w]);
        c->los_days = integer(r->fields[c_los]);
        c->icu_hours = -1;
        c->n_diagnoses = *r->fields[c_dx] ? (size_t)split(r->fields[c_dx], '|', (char **)r->dx, MAX_CODES) : 0;
        c->n_procedures = *r->fields[c_px] ? (size_t)split(r->fields[c_px], '|', (char **)r->px, MAX_CODES) : 0;
        r->c.hospital = r->fields[c_h];
        r->c.hospital_level = r->fields[c_l];
        r->c.total_cost = *r->fields[c_cost] ? atof(r->fields[c_cost]) : 0.0;
    }
    free(line);
    fclose(f);
    /* The code arrays live in the rows, which realloc may have moved. */
    for (size_t i = 0; i < n; i++) {
        rows[i].c.base.diagnoses = rows[i].dx;
        rows[i].c.base.procedures = rows[i].px;
    }

    int threads = atoi(argv[5]);
    if (threads < 1) threads = 1;
    pthread_t *ids = calloc((size_t)threads, sizeof(pthread_t));
    share *shares = calloc((size_t)threads, sizeof(share));
    for (int t = 0; t < threads; t++) {
        shares[t] = (share){dip, rows, n * (size_t)t / (size_t)threads, n * (size_t)(t + 1) / (size_t)threads};
        pthread_create(&ids[t], NULL, work, &shares[t]);
    }
    for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);

    printf("id,status,group,severity,category,points\n");
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        row *r = &rows[i];
        if (r->rc != DRG_OK) {
            fprintf(stderr, "%s: %s\n", r->c.base.id, drg_last_error());
            failed = 1;
            continue;
        }
        printf("%s,%s,%s,", r->c.base.id, status_name(r->r.status), r->r.group);
        if (r->r.severity >= 0) printf("%d", r->r.severity);
        if (r->r.scored) printf(",%s,%.6f\n", category_name(r->r.category), r->r.points);
        else printf(",,\n");
    }

    /* The JSON call: keys, group, why. */
    char *json = drg_dip_group_json(dip, "{\"id\":\"j1\",\"sex\":\"1\",\"age_years\":60,\"total_cost\":9000,"
                                         "\"hospital_level\":\"3\",\"diagnoses\":[\"C15.900\",\"J18.900\"]}");
    if (!json || !strstr(json, "\"group\":\"C15#C\"") || !strstr(json, "\"comprehensive_key\":\"C15#C\"")) {
        fprintf(stderr, "drg_dip_group_json: %s\n", json ? json : drg_last_error());
        failed = 1;
    }
    drg_string_free(json);
    if (drg_dip_group_json(dip, "not json") != NULL || drg_dip_group(NULL, NULL, NULL) != DRG_ERROR_NULL) {
        fprintf(stderr, "bad arguments were not refused\n");
        failed = 1;
    }

    for (size_t i = 0; i < n; i++) free(rows[i].fields[0]);
    free(rows);
    free(ids);
    free(shares);
    free(header);
    drg_dip_close(dip);
    return failed;
}
