/* flow_watch.c: inotify on the event loop, debounced (see flow_watch.h). */
#include "flow_watch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "err.h"

struct flow_watch {
    int fd;
    struct event *readable, *quiet;
    flow_watch_cb *cb;
    void *arg;
};

static void quiet_cb(evutil_socket_t fd, short what, void *arg)
{
    struct flow_watch *w = arg;

    (void)fd;
    (void)what;
    w->cb(w->arg);
}

static void readable_cb(evutil_socket_t fd, short what, void *arg)
{
    struct flow_watch *w = arg;
    char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    struct timeval quiet = {0, FLOW_WATCH_QUIET_MS * 1000};

    (void)what;
    /* The events themselves do not matter: any change means "reload soon". */
    while (read(fd, events, sizeof(events)) > 0)
        ;
    event_add(w->quiet, &quiet); /* re-arming pushes the reload past the last change */
}

struct flow_watch *flow_watch_new(struct event_base *base, const char *dir, flow_watch_cb *cb,
                                  void *arg, char *err)
{
    struct flow_watch *w = calloc(1, sizeof(*w));

    if (w == NULL) {
        err_set(err, "out of memory");
        return NULL;
    }
    w->cb = cb;
    w->arg = arg;
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0 ||
        inotify_add_watch(
            w->fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE) < 0) {
        err_set(err, "cannot watch '%s': %s", dir, strerror(errno));
        flow_watch_free(w);
        return NULL;
    }
    w->readable = event_new(base, w->fd, EV_READ | EV_PERSIST, readable_cb, w);
    w->quiet = evtimer_new(base, quiet_cb, w);
    if (w->readable == NULL || w->quiet == NULL || event_add(w->readable, NULL) != 0) {
        err_set(err, "cannot watch '%s': event set-up failed", dir);
        flow_watch_free(w);
        return NULL;
    }
    return w;
}

void flow_watch_free(struct flow_watch *w)
{
    if (w == NULL)
        return;
    if (w->readable != NULL)
        event_free(w->readable);
    if (w->quiet != NULL)
        event_free(w->quiet);
    if (w->fd >= 0)
        close(w->fd);
    free(w);
}
