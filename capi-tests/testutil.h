/*  Shared helpers for the C API tests. Tests use only zmq.h, the way users do; this file adds
    assertions, a hard time limit, and the check that the process really runs on ferrozmq
    (with Debian's libzmq installed, -lzmq could silently load that one instead).  */
#ifndef FERROZMQ_TESTUTIL_H
#define FERROZMQ_TESTUTIL_H

#include <zmq.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEST_ASSERT(cond)                                                                  \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf (stderr, "%s:%d: assertion failed: %s (errno %d: %s)\n", __FILE__,     \
                     __LINE__, #cond, zmq_errno (), zmq_strerror (zmq_errno ()));          \
            abort ();                                                                      \
        }                                                                                  \
    } while (0)

/*  Asserts a call returned `rc` ... */
#define TEST_OK(expr) TEST_ASSERT ((expr) != -1)
/*  Asserts a call failed with -1 and the given errno.  */
#define TEST_FAIL(expr, err)                                                               \
    do {                                                                                   \
        int rc_ = (int) (expr);                                                            \
        int e_ = errno;                                                                    \
        if (rc_ != -1 || e_ != (err)) {                                                    \
            fprintf (stderr, "%s:%d: %s: expected -1/%s, got %d/errno %d (%s)\n", __FILE__, \
                     __LINE__, #expr, #err, rc_, e_, zmq_strerror (e_));                    \
            abort ();                                                                      \
        }                                                                                  \
    } while (0)

/*  Fails the test unless the libzmq mapped into this process is the one named by
    $FERROZMQ_LIB (set by the test runner to the library under test).  */
static void assert_ferrozmq (void)
{
    const char *want = getenv ("FERROZMQ_LIB");
    if (!want) {
        fprintf (stderr, "FERROZMQ_LIB is not set: run this test through cargo test\n");
        abort ();
    }
    char want_real[PATH_MAX];
    TEST_ASSERT (realpath (want, want_real) != NULL);
    FILE *maps = fopen ("/proc/self/maps", "r");
    TEST_ASSERT (maps != NULL);
    char line[4096];
    int found = 0;
    while (fgets (line, sizeof line, maps)) {
        char *path = strchr (line, '/');
        if (!path || !strstr (path, "libzmq"))
            continue;
        path[strcspn (path, "\n")] = 0;
        char real[PATH_MAX];
        if (!realpath (path, real) || strcmp (real, want_real) != 0) {
            fprintf (stderr, "loaded %s, expected %s\n", path, want_real);
            abort ();
        }
        found = 1;
    }
    fclose (maps);
    TEST_ASSERT (found);
}

/*  Every test calls this first: a hang becomes a failure after `seconds`, and the library
    under test is proven to be ours.  */
static void test_setup (unsigned seconds)
{
    alarm (seconds);
    assert_ferrozmq ();
}

/*  A receive for a thread of its own to block in (pthread_create with block_in_recv):
    its result and errno.  */
struct blocker {
    void *sock;
    int rc;
    int err;
};

static void *block_in_recv (void *arg)
{
    struct blocker *b = arg;
    char buf[8];
    b->rc = zmq_recv (b->sock, buf, sizeof buf, 0);
    b->err = errno;
    return NULL;
}

#endif
