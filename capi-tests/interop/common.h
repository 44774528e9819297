/*  What the interop programs (peer.c, secure.c) share: which library they run on (`side`),
    the FAIL line and CHECK, a monotonic clock, and the proof from /proc/self/maps of which
    libzmq is loaded.

    A program including this defines `o` first and, after it, print_role (below).  */
#ifndef INTEROP_COMMON_H
#define INTEROP_COMMON_H

#include <zmq.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef INTEROP_FERROZMQ
#include "../testutil.h"
static const char *side = "ferrozmq";
#else
static const char *side = "libzmq";
#endif

#define SYSTEM_LIB "/usr/lib/x86_64-linux-gnu/libzmq.so.5"

/*  Writes what this process plays ("ROLE", "ROLE MECH", ...) into its FAIL line.  */
static void print_role (FILE *out);

static void fail (const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fprintf (stderr, "FAIL [%s ", side);
    print_role (stderr);
    fputs ("]: ", stderr);
    vfprintf (stderr, fmt, ap);
    fputc ('\n', stderr);
    va_end (ap);
    exit (1);
}

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond))                                                                       \
            fail ("%s:%d: %s (errno %d: %s)", __FILE__, __LINE__, #cond, zmq_errno (),      \
                  zmq_strerror (zmq_errno ()));                                            \
    } while (0)

static int64_t now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*  The real path of the one libzmq mapped into this process.  */
static void mapped_libzmq (char *out)
{
    FILE *maps = fopen ("/proc/self/maps", "r");
    CHECK (maps != NULL);
    char line[4096];
    out[0] = 0;
    while (fgets (line, sizeof line, maps)) {
        char *path = strchr (line, '/');
        if (!path || !strstr (path, "libzmq"))
            continue;
        path[strcspn (path, "\n")] = 0;
        char real[PATH_MAX];
        if (!realpath (path, real))
            fail ("cannot resolve mapped %s", path);
        if (out[0] && strcmp (out, real) != 0)
            fail ("two libzmq mapped: %s and %s", out, real);
        strcpy (out, real);
    }
    fclose (maps);
    if (!out[0])
        fail ("no libzmq mapped into this process");
}

/*  Proves which library this process runs on, before any other call into it.  */
static void check_library (char *path)
{
#ifdef INTEROP_FERROZMQ
    test_setup (20);
    mapped_libzmq (path);
#else
    alarm (20);
    mapped_libzmq (path);
    /*  With LD_LIBRARY_PATH pointing at ferrozmq this would load ours: the peer must not.  */
    if (strncmp (path, SYSTEM_LIB, strlen (SYSTEM_LIB)) != 0)
        fail ("runs on %s, not on the system's %s*", path, SYSTEM_LIB);
#endif
}

#endif
