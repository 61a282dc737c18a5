/*
 * flow_watch.h: notices changes in the flows directory (Linux inotify on the
 * event loop) and calls back once things are quiet again: editors save in
 * several writes and renames, and reloading half a save would only report
 * spurious errors.
 */
#ifndef KATTO_FLOW_WATCH_H
#define KATTO_FLOW_WATCH_H

#include <event2/event.h>

struct flow_watch;

typedef void flow_watch_cb(void *arg);

#define FLOW_WATCH_QUIET_MS 300 /* wait this long after the last change */

/*
 * Watches dir (borrowed for the call) on base; cb(arg) runs after changes.
 * Returns NULL with err if the directory cannot be watched (the caller can
 * still reload on SIGHUP).
 */
struct flow_watch *flow_watch_new(struct event_base *base, const char *dir, flow_watch_cb *cb,
                                  void *arg, char *err);
void flow_watch_free(struct flow_watch *w);

#endif
