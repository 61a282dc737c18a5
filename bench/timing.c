/*
 * timing.c: start-up and reload times of a server, for scripts/bench (scenario 5).
 *
 *   timing startup CPU PORT_FILE LOG_FILE -- PROGRAM ARGS...
 *       removes PORT_FILE, starts PROGRAM pinned to CPU (stdout and stderr appended to
 *       LOG_FILE) and prints the milliseconds from just before exec until PORT_FILE
 *       appears, then the child's pid: "startup_ms 12.34 pid 4711". The server keeps
 *       running; this program exits.
 *   timing reload PID LOG_FILE WORD
 *       sends SIGHUP to PID and prints the milliseconds until a line containing WORD
 *       is appended to LOG_FILE: "reload_ms 3.21".
 *
 * Both poll every 50 microseconds on the caller's CPU and give up after 30 s (exit 1).
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void pause_us(long us)
{
    struct timespec t = {0, us * 1000};

    nanosleep(&t, NULL);
}

static int startup(int cpu, const char *port_file, const char *log_file, char **argv)
{
    struct stat st;
    cpu_set_t set;
    double t0;
    pid_t pid;

    unlink(port_file);
    t0 = now_ms();
    if ((pid = fork()) < 0) {
        perror("timing: fork");
        return 2;
    }
    if (pid == 0) {
        int fd = open(log_file, O_WRONLY | O_CREAT | O_APPEND, 0600);

        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0 ||
            sched_setaffinity(0, sizeof(set), &set) != 0)
            _exit(127);
        execvp(argv[0], argv);
        _exit(127);
    }
    while (stat(port_file, &st) != 0 || st.st_size == 0) {
        if (now_ms() - t0 > 30000 || waitpid(pid, NULL, WNOHANG) == pid) {
            fprintf(stderr, "timing: %s did not appear (see %s)\n", port_file, log_file);
            return 1;
        }
        pause_us(50);
    }
    printf("startup_ms %.2f pid %d\n", now_ms() - t0, (int)pid);
    return 0;
}

/* Bytes of path, or -1. */
static off_t size_of(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* True if the part of path from offset on contains word. */
static int appended_has(const char *path, off_t offset, const char *word)
{
    FILE *f = fopen(path, "r");
    char line[8192];
    int found = 0;

    if (f == NULL)
        return 0;
    fseeko(f, offset, SEEK_SET);
    while (!found && fgets(line, sizeof(line), f) != NULL)
        found = strstr(line, word) != NULL && line[strlen(line) - 1] == '\n';
    fclose(f);
    return found;
}

static int reload(pid_t pid, const char *log_file, const char *word)
{
    off_t offset = size_of(log_file), size = offset;
    double t0;

    if (offset < 0) {
        perror(log_file);
        return 2;
    }
    t0 = now_ms();
    if (kill(pid, SIGHUP) != 0) {
        perror("timing: kill");
        return 2;
    }
    for (;;) {
        off_t s = size_of(log_file);

        if (s != size) {
            size = s;
            if (appended_has(log_file, offset, word))
                break;
        }
        if (now_ms() - t0 > 30000) {
            fprintf(stderr, "timing: no '%s' in %s after SIGHUP\n", word, log_file);
            return 1;
        }
        pause_us(50);
    }
    printf("reload_ms %.2f\n", now_ms() - t0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 7 && strcmp(argv[1], "startup") == 0 && strcmp(argv[5], "--") == 0)
        return startup(atoi(argv[2]), argv[3], argv[4], argv + 6);
    if (argc == 5 && strcmp(argv[1], "reload") == 0)
        return reload((pid_t)atol(argv[2]), argv[3], argv[4]);
    fprintf(stderr, "usage: timing startup CPU PORT_FILE LOG_FILE -- PROGRAM ARGS...\n"
                    "       timing reload PID LOG_FILE WORD\n");
    return 64;
}
