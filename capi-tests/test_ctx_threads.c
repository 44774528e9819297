/*  The context's thread options take effect on its I/O threads as in libzmq, fixed when the
    first socket starts them: ZMQ_THREAD_NAME_PREFIX names them "<prefix>/ZMQbg/IO/<n>" (cut
    to 15 bytes), ZMQ_THREAD_AFFINITY_CPU_ADD/REMOVE set their CPUs, ZMQ_THREAD_SCHED_POLICY
    their policy, and ZMQ_THREAD_PRIORITY > 0 under a non-real-time policy lowers their nice
    value by 20. The application's own thread keeps its settings. Read back from
    /proc/self/task/<tid>/comm, sched_getaffinity, sched_getscheduler and getpriority.
    libzmq aborts the process when the OS refuses a setting; ferrozmq fails the zmq_socket
    call that starts the threads instead (checked only on ferrozmq).  */
#define _GNU_SOURCE
#include "refutil.h"
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

/*  The tid of the thread named `name`, or 0.  */
static pid_t find_thread (const char *name)
{
    DIR *d = opendir ("/proc/self/task");
    TEST_ASSERT (d != NULL);
    struct dirent *e;
    pid_t found = 0;
    while ((e = readdir (d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], comm[64] = "";
        snprintf (path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen (path, "r");
        if (!f)
            continue;
        if (fgets (comm, sizeof comm, f))
            comm[strcspn (comm, "\n")] = 0;
        fclose (f);
        if (strcmp (comm, name) == 0)
            found = (pid_t) atoi (e->d_name);
    }
    closedir (d);
    return found;
}

static long now_ms (void)
{
    struct timespec t;
    clock_gettime (CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/*  libzmq's threads set their name and scheduling as they start, after zmq_socket returns:
    waits (bounded) for the named thread to show `want_policy`.  */
static pid_t wait_thread (const char *name, int want_policy)
{
    long deadline = now_ms () + 5000;
    for (;;) {
        pid_t tid = find_thread (name);
        if (tid && sched_getscheduler (tid) == want_policy)
            return tid;
        if (now_ms () > deadline) {
            fprintf (stderr, "no thread '%s' with policy %d\n", name, want_policy);
            TEST_ASSERT (0);
        }
        struct timespec pause = {0, 1000000};
        nanosleep (&pause, NULL);
    }
}

static void expect_cpus (pid_t tid, const cpu_set_t *want)
{
    long deadline = now_ms () + 5000;
    for (;;) {
        cpu_set_t got;
        TEST_ASSERT (sched_getaffinity (tid, sizeof got, &got) == 0);
        if (CPU_EQUAL (&got, want))
            return;
        TEST_ASSERT (now_ms () < deadline);
        struct timespec pause = {0, 1000000};
        nanosleep (&pause, NULL);
    }
}

static int nice_of (pid_t tid)
{
    errno = 0;
    int n = getpriority (PRIO_PROCESS, (id_t) tid);
    TEST_ASSERT (errno == 0);
    return n;
}

static void *try_raise (void *arg)
{
    /*  Whether this process may lower a thread's nice value (root, CAP_SYS_NICE or
        RLIMIT_NICE), tried on a throwaway thread.  */
    int cur = getpriority (PRIO_PROCESS, 0);
    *(int *) arg = setpriority (PRIO_PROCESS, 0, cur - 1) == 0;
    return NULL;
}

static void test_defaults (void)
{
    cpu_set_t mine;
    TEST_ASSERT (sched_getaffinity (0, sizeof mine, &mine) == 0);
    void *ctx = zmq_ctx_new ();
    void *s = zmq_socket (ctx, ZMQ_PAIR);
    TEST_ASSERT (s);
    pid_t io = wait_thread ("ZMQbg/IO/0", SCHED_OTHER);
    expect_cpus (io, &mine);
    TEST_ASSERT (nice_of (io) == nice_of (0));
    TEST_OK (zmq_close (s));
    TEST_OK (zmq_ctx_term (ctx));
}

static void test_name_affinity_policy (void)
{
    cpu_set_t mine;
    TEST_ASSERT (sched_getaffinity (0, sizeof mine, &mine) == 0);
    int first = -1, second = -1;
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (!CPU_ISSET (c, &mine))
            continue;
        if (first < 0)
            first = c;
        else if (second < 0)
            second = c;
    }
    TEST_ASSERT (first >= 0);

    void *ctx = zmq_ctx_new ();
    TEST_OK (zmq_ctx_set (ctx, ZMQ_IO_THREADS, 2));
    TEST_OK (zmq_ctx_set (ctx, ZMQ_THREAD_NAME_PREFIX, 42));
    TEST_OK (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_ADD, first));
    if (second >= 0) {
        TEST_OK (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_ADD, second));
        TEST_OK (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_REMOVE, second));
    }
    TEST_FAIL (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_REMOVE, 999), EINVAL);
    /*  Unprivileged threads may move to SCHED_BATCH.  */
    TEST_OK (zmq_ctx_set (ctx, ZMQ_THREAD_SCHED_POLICY, SCHED_BATCH));
    void *s = zmq_socket (ctx, ZMQ_PAIR);
    TEST_ASSERT (s);

    cpu_set_t want;
    CPU_ZERO (&want);
    CPU_SET (first, &want);
    const char *names[] = {"42/ZMQbg/IO/0", "42/ZMQbg/IO/1"};
    for (int i = 0; i < 2; i++) {
        pid_t tid = wait_thread (names[i], SCHED_BATCH);
        expect_cpus (tid, &want);
    }
    /*  The application's thread is untouched.  */
    cpu_set_t now;
    TEST_ASSERT (sched_getaffinity (0, sizeof now, &now) == 0);
    TEST_ASSERT (CPU_EQUAL (&now, &mine));
    TEST_ASSERT (sched_getscheduler (0) == SCHED_OTHER);

    /*  Too late: the threads exist. Accepted, no effect.  */
    TEST_OK (zmq_ctx_set (ctx, ZMQ_THREAD_NAME_PREFIX, 43));
    void *s2 = zmq_socket (ctx, ZMQ_PAIR);
    TEST_ASSERT (s2);
    TEST_ASSERT (find_thread ("43/ZMQbg/IO/0") == 0);
    TEST_ASSERT (find_thread ("42/ZMQbg/IO/0") != 0);
    TEST_OK (zmq_close (s2));
    TEST_OK (zmq_close (s));
    TEST_OK (zmq_ctx_term (ctx));
}

static void test_long_prefix (void)
{
    void *ctx = zmq_ctx_new ();
    TEST_OK (zmq_ctx_set (ctx, ZMQ_THREAD_NAME_PREFIX, 123456));
    void *s = zmq_socket (ctx, ZMQ_PAIR);
    TEST_ASSERT (s);
    /*  Linux keeps 15 bytes of a thread's name.  */
    wait_thread ("123456/ZMQbg/IO", SCHED_OTHER);
    TEST_OK (zmq_close (s));
    TEST_OK (zmq_ctx_term (ctx));
}

static void test_priority (void)
{
    int privileged = 0;
    pthread_t t;
    TEST_ASSERT (pthread_create (&t, NULL, try_raise, &privileged) == 0);
    TEST_ASSERT (pthread_join (t, NULL) == 0);
    int base = nice_of (0);

    void *ctx = zmq_ctx_new ();
    TEST_OK (zmq_ctx_set (ctx, ZMQ_THREAD_SCHED_POLICY, SCHED_OTHER));
    TEST_OK (zmq_ctx_set (ctx, ZMQ_THREAD_PRIORITY, 1));
    TEST_OK (zmq_ctx_set (ctx, ZMQ_THREAD_NAME_PREFIX, 7));
    if (privileged) {
        void *s = zmq_socket (ctx, ZMQ_PAIR);
        TEST_ASSERT (s);
        pid_t io = wait_thread ("7/ZMQbg/IO/0", SCHED_OTHER);
        int want = base - 20 < -20 ? -20 : base - 20;
        long deadline = now_ms () + 5000;
        while (nice_of (io) != want)
            TEST_ASSERT (now_ms () < deadline);
        TEST_ASSERT (nice_of (0) == base);
        TEST_OK (zmq_close (s));
    } else {
#ifndef LIBZMQ_REFERENCE
        /*  libzmq aborts here (nice fails with EPERM).  */
        TEST_ASSERT (zmq_socket (ctx, ZMQ_PAIR) == NULL);
        TEST_ASSERT (errno == EPERM);
#endif
    }
    TEST_OK (zmq_ctx_term (ctx));
}

/*  ferrozmq only: libzmq aborts the process in these cases.  */
static void test_refused (void)
{
#ifndef LIBZMQ_REFERENCE
    void *ctx = zmq_ctx_new ();
    TEST_OK (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_ADD, 1000));
    TEST_ASSERT (zmq_socket (ctx, ZMQ_PAIR) == NULL);
    TEST_ASSERT (errno == EINVAL);
    TEST_OK (zmq_ctx_term (ctx));

    ctx = zmq_ctx_new ();
    TEST_OK (zmq_ctx_set (ctx, ZMQ_THREAD_SCHED_POLICY, 99));
    TEST_ASSERT (zmq_socket (ctx, ZMQ_PAIR) == NULL);
    TEST_ASSERT (errno == EINVAL);
    /*  Nothing was left running: an inproc-only context works once fixed.  */
    TEST_OK (zmq_ctx_set (ctx, ZMQ_IO_THREADS, 0));
    void *s = zmq_socket (ctx, ZMQ_PAIR);
    TEST_ASSERT (s);
    TEST_OK (zmq_close (s));
    TEST_OK (zmq_ctx_term (ctx));
    /*  Every I/O thread was joined; a thread just joined may still be listed for a
        moment while the kernel finishes its exit, so allow it a bounded while.  */
    long deadline = now_ms () + 2000;
    while (find_thread ("ZMQbg/IO/0") != 0) {
        TEST_ASSERT (now_ms () < deadline);
        struct timespec pause = {0, 1000000};
        nanosleep (&pause, NULL);
    }
#endif
}

int main (void)
{
    ref_setup (30);
    test_defaults ();
    test_name_affinity_policy ();
    test_long_prefix ();
    test_priority ();
    test_refused ();
    return 0;
}
