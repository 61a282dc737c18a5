/*
 * metrics.h: counters and gauges exposed on GET /metrics in the Prometheus
 * text format (version 0.0.4). Series are created on first use; labels are
 * given pre-formatted ("route=\"healthz\",status=\"200\"") and must come from
 * a bounded set chosen by Katto (route names, never raw paths or input).
 */
#ifndef KATTO_METRICS_H
#define KATTO_METRICS_H

#include <stdint.h>
#include <stdio.h>

struct metrics;

typedef double metrics_gauge_cb(void *arg);

/* Returns a new empty registry (free with metrics_free), or NULL. */
struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/*
 * Declares a metric family; help and type ("counter" or "gauge") are kept as
 * given (static strings). Returns 0, or -1 if out of memory.
 */
int metrics_declare(struct metrics *m, const char *name, const char *type, const char *help);

/* Adds n to the counter series name{labels}; labels may be "" (borrowed, copied). */
void metrics_add(struct metrics *m, const char *name, const char *labels, uint64_t n);

/* Registers a gauge whose value is read from cb(arg) at scrape time. */
int metrics_gauge(struct metrics *m, const char *name, const char *labels, metrics_gauge_cb *cb,
                  void *arg);

/* Current value of a counter series (0 if absent): for tests and /healthz. */
uint64_t metrics_get(const struct metrics *m, const char *name, const char *labels);

/* Writes the exposition text to a malloc'd string (caller frees), or NULL. */
char *metrics_render(const struct metrics *m, size_t *len);

#endif
