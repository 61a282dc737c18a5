/*
 * app.h: `katto serve`. Builds everything on one event_base (database, group
 * commit, HTTP server, signals), runs the loop, and shuts down gracefully:
 * on SIGTERM or SIGINT it stops accepting, lets in-flight requests finish
 * (up to limits.shutdown_timeout seconds), flushes, and closes the database.
 */
#ifndef KATTO_APP_H
#define KATTO_APP_H

#include "config.h"

/* Runs the server until a stop signal. Returns a process exit status (0, 1 or 78). */
int app_serve(const struct config *cfg);

#endif
