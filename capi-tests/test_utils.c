/*  Version, errors, capabilities, CURVE key helpers without CURVE, stopwatch, sleep and
    threads.  */
#define _GNU_SOURCE /* pthread_getname_np */
#include "testutil.h"
#include <pthread.h>
#include <signal.h>

static void test_version (void)
{
    int major = -1, minor = -1, patch = -1;
    zmq_version (&major, &minor, &patch);
    TEST_ASSERT (major == 4 && minor == 3 && patch == 5);
    TEST_ASSERT (ZMQ_VERSION == ZMQ_MAKE_VERSION (major, minor, patch));
    TEST_ASSERT (ZMQ_VERSION == 40305);
}

static void test_strerror (void)
{
    TEST_ASSERT (strcmp (zmq_strerror (EFSM),
                         "Operation cannot be accomplished in current state")
                 == 0);
    TEST_ASSERT (strcmp (zmq_strerror (ENOCOMPATPROTO),
                         "The protocol is not compatible with the socket type")
                 == 0);
    TEST_ASSERT (strcmp (zmq_strerror (ETERM), "Context was terminated") == 0);
    TEST_ASSERT (strcmp (zmq_strerror (EMTHREAD), "No thread available") == 0);
    TEST_ASSERT (strcmp (zmq_strerror (EINVAL), strerror (EINVAL)) == 0);
    TEST_ASSERT (strcmp (zmq_strerror (EAGAIN), strerror (EAGAIN)) == 0);
    TEST_ASSERT (zmq_strerror (-1) != NULL);
}

static void test_errno (void)
{
    errno = 0;
    TEST_ASSERT (zmq_ctx_term (NULL) == -1);
    TEST_ASSERT (errno == EFAULT);
    TEST_ASSERT (zmq_errno () == errno);
    errno = 0;
    TEST_ASSERT (zmq_z85_encode (NULL, NULL, 3) == NULL);
    TEST_ASSERT (zmq_errno () == EINVAL);
    errno = ETERM;
    TEST_ASSERT (zmq_errno () == ETERM);
}

static void test_has (void)
{
    /*  ipc, curve and the draft API are built; the other optional capabilities are not.  */
    TEST_ASSERT (zmq_has ("ipc") == 1);
    TEST_ASSERT (zmq_has ("curve") == 1);
    TEST_ASSERT (zmq_has ("draft") == 1);
    const char *caps[] = {"pgm", "tipc", "norm", "gssapi", "vmci",
                          "WS", "WSS", "vsock", "ws", "tcp", "inproc", ""};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
        TEST_ASSERT (zmq_has (caps[i]) == 0);
    TEST_ASSERT (zmq_has (NULL) == 0);
}

/*  The key functions (test_curve_keys.c covers them further).  */
static void test_curve_keys_work (void)
{
    char public_key[41], secret_key[41];
    TEST_ASSERT (zmq_curve_keypair (public_key, secret_key) == 0);
    TEST_ASSERT (zmq_curve_public (public_key, "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6") == 0);
    TEST_ASSERT (strcmp (public_key, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7") == 0);
}

static void test_stopwatch (void)
{
    void *watch = zmq_stopwatch_start ();
    TEST_ASSERT (watch);
    usleep (20000);
    unsigned long mid = zmq_stopwatch_intermediate (watch);
    TEST_ASSERT (mid >= 20000 && mid < 10000000);
    usleep (5000);
    unsigned long end = zmq_stopwatch_stop (watch);
    TEST_ASSERT (end >= mid + 5000);

    /*  libzmq would crash on these; ferrozmq returns 0 with EFAULT.  */
    errno = 0;
    TEST_ASSERT (zmq_stopwatch_intermediate (watch) == 0);
    TEST_ASSERT (errno == EFAULT);
    errno = 0;
    TEST_ASSERT (zmq_stopwatch_stop (NULL) == 0);
    TEST_ASSERT (errno == EFAULT);
}

static void test_sleep (void)
{
    void *watch = zmq_stopwatch_start ();
    zmq_sleep (1);
    unsigned long us = zmq_stopwatch_stop (watch);
    TEST_ASSERT (us >= 1000000 && us < 5000000);
    watch = zmq_stopwatch_start ();
    zmq_sleep (0);
    TEST_ASSERT (zmq_stopwatch_stop (watch) < 100000);
}

/*  What a zmq_threadstart thread sees: its argument, libzmq's thread name, signals blocked.  */
struct seen
{
    void *self;
    char name[16];
    int sigint_blocked;
};

static void look (void *arg)
{
    struct seen *seen = arg;
    seen->self = arg;
    pthread_getname_np (pthread_self (), seen->name, sizeof seen->name);
    sigset_t mask;
    pthread_sigmask (SIG_BLOCK, NULL, &mask);
    seen->sigint_blocked = sigismember (&mask, SIGINT);
}

static void test_threads (void)
{
    struct seen seen;
    memset (&seen, 0, sizeof seen);
    void *thread = zmq_threadstart (look, &seen);
    TEST_ASSERT (thread);
    zmq_threadclose (thread);
    TEST_ASSERT (seen.self == &seen);
    TEST_ASSERT (strcmp (seen.name, "ZMQapp") == 0);
    TEST_ASSERT (seen.sigint_blocked == 1);

    errno = 0;
    TEST_ASSERT (zmq_threadstart (NULL, NULL) == NULL);
    TEST_ASSERT (errno == EINVAL);
    /*  A closed thread's handle is dead: closing it again is an error, not a double join.  */
    errno = 0;
    zmq_threadclose (thread);
    TEST_ASSERT (errno == EFAULT);
}

static void quit (void *arg)
{
    *(int *) arg = 1;
    pthread_exit (NULL);
}

static void test_thread_exit (void)
{
    int ran = 0;
    void *thread = zmq_threadstart (quit, &ran);
    TEST_ASSERT (thread);
    zmq_threadclose (thread);
    TEST_ASSERT (ran == 1);
}

int main (void)
{
    test_setup (30);
    test_version ();
    test_strerror ();
    test_errno ();
    test_has ();
    test_curve_keys_work ();
    test_stopwatch ();
    test_sleep ();
    test_threads ();
    test_thread_exit ();
    return 0;
}
