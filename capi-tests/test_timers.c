/*  Timers: adding, firing, cancelling (also from inside a handler), intervals, timeouts and
    handle checks. Waits are bounded by a stopwatch so a broken timer fails, not hangs.  */
#include "testutil.h"

static void count (int timer_id, void *arg)
{
    (void) timer_id;
    (*(int *) arg)++;
}

static void msleep (long ms)
{
    if (ms > 0)
        usleep ((useconds_t) ms * 1000);
}

/*  Executes until *flag is set, sleeping as zmq_timers_timeout says; fails after 5 s.  */
static void run_until (void *timers, const int *flag)
{
    void *watch = zmq_stopwatch_start ();
    while (!*flag) {
        TEST_ASSERT (zmq_stopwatch_intermediate (watch) < 5000000);
        long timeout = zmq_timers_timeout (timers);
        TEST_ASSERT (timeout >= 0);
        msleep (timeout);
        TEST_OK (zmq_timers_execute (timers));
    }
    zmq_stopwatch_stop (watch);
}

/*  Milliseconds since `watch` started. A loaded machine (valgrind, CI) may stall this thread
    for longer than a timer's interval: checks that something has NOT happened yet, or of a
    time-out's lower bound, allow for the time that really passed.  */
static long elapsed_ms (void *watch)
{
    return (long) (zmq_stopwatch_intermediate (watch) / 1000);
}

/*  The man page's example.  */
static void test_man_page (void)
{
    void *timers = zmq_timers_new ();
    TEST_ASSERT (timers);
    int invoked = 0;
    void *since = zmq_stopwatch_start ();
    int id = zmq_timers_add (timers, 100, count, &invoked);
    TEST_ASSERT (id > 0);

    /*  Not due yet, unless this thread stalled for most of the interval (10 ms of slack for
        the timers' whole-millisecond clock; valgrind's first run of the code can take that).  */
    TEST_OK (zmq_timers_execute (timers));
    TEST_ASSERT (invoked == 0 || elapsed_ms (since) >= 90);

    long timeout = zmq_timers_timeout (timers);
    TEST_ASSERT (timeout >= 0 && timeout <= 100);
    TEST_ASSERT (timeout > 0 || elapsed_ms (since) >= 90);
    msleep (timeout / 2);
    TEST_OK (zmq_timers_execute (timers));
    TEST_ASSERT (invoked == 0 || elapsed_ms (since) >= 90);
    zmq_stopwatch_stop (since);
    int early = invoked;

    /*  Sleeping exactly the timeout reaches the due time (the next one, if it came early).  */
    msleep (zmq_timers_timeout (timers));
    TEST_OK (zmq_timers_execute (timers));
    TEST_ASSERT (invoked == early + 1);

    TEST_OK (zmq_timers_destroy (&timers));
    TEST_ASSERT (timers == NULL);
}

static void test_ids_and_timeouts (void)
{
    void *timers = zmq_timers_new ();
    int n = 0;
    TEST_ASSERT (zmq_timers_timeout (timers) == -1);
    void *since = zmq_stopwatch_start ();
    TEST_ASSERT (zmq_timers_add (timers, 10000, count, &n) == 1);
    TEST_ASSERT (zmq_timers_add (timers, 200, count, &n) == 2);
    TEST_ASSERT (zmq_timers_add (timers, 5000, count, NULL) == 3);
    long timeout = zmq_timers_timeout (timers);
    TEST_ASSERT (timeout >= 200 - elapsed_ms (since) - 1 && timeout <= 200);
    TEST_OK (zmq_timers_cancel (timers, 2));
    timeout = zmq_timers_timeout (timers);
    TEST_ASSERT (timeout >= 5000 - elapsed_ms (since) - 1 && timeout <= 5000);
    zmq_stopwatch_stop (since);
    TEST_OK (zmq_timers_cancel (timers, 3));
    TEST_OK (zmq_timers_cancel (timers, 1));
    TEST_ASSERT (zmq_timers_timeout (timers) == -1);
    /*  Ids keep counting after cancels.  */
    TEST_ASSERT (zmq_timers_add (timers, 10, count, &n) == 4);
    TEST_OK (zmq_timers_destroy (&timers));
    TEST_ASSERT (n == 0);
}

static void test_repeats (void)
{
    void *timers = zmq_timers_new ();
    int n = 0;
    int id = zmq_timers_add (timers, 10, count, &n);
    void *watch = zmq_stopwatch_start ();
    while (n < 5) {
        TEST_ASSERT (zmq_stopwatch_intermediate (watch) < 5000000);
        msleep (zmq_timers_timeout (timers));
        TEST_OK (zmq_timers_execute (timers));
    }
    /*  Five runs 10 ms apart take at least about 40 ms (the clock counts whole ms).  */
    TEST_ASSERT (zmq_stopwatch_stop (watch) >= 40000);
    TEST_ASSERT (zmq_timers_timeout (timers) > 0);
    TEST_OK (zmq_timers_cancel (timers, id));
    TEST_OK (zmq_timers_destroy (&timers));
}

static void test_set_interval_and_reset (void)
{
    void *timers = zmq_timers_new ();
    int n = 0;
    int id = zmq_timers_add (timers, 10000, count, &n);
    TEST_OK (zmq_timers_set_interval (timers, id, 20));
    long timeout = zmq_timers_timeout (timers);
    TEST_ASSERT (timeout >= 0 && timeout <= 20);
    run_until (timers, &n);
    /*  The new interval sticks for later runs.  */
    timeout = zmq_timers_timeout (timers);
    TEST_ASSERT (timeout >= 0 && timeout <= 20);

    TEST_OK (zmq_timers_set_interval (timers, id, 300));
    msleep (100);
    void *since = zmq_stopwatch_start ();
    TEST_OK (zmq_timers_reset (timers, id));
    timeout = zmq_timers_timeout (timers);
    TEST_ASSERT (timeout >= 300 - elapsed_ms (since) - 1 && timeout <= 300);
    zmq_stopwatch_stop (since);
    TEST_OK (zmq_timers_destroy (&timers));
}

static void test_bad_ids (void)
{
    void *timers = zmq_timers_new ();
    int n = 0;
    int id = zmq_timers_add (timers, 100, count, &n);
    TEST_FAIL (zmq_timers_cancel (timers, 99), EINVAL);
    TEST_FAIL (zmq_timers_cancel (timers, 0), EINVAL);
    TEST_FAIL (zmq_timers_cancel (timers, -1), EINVAL);
    TEST_FAIL (zmq_timers_reset (timers, 99), EINVAL);
    TEST_FAIL (zmq_timers_set_interval (timers, 99, 10), EINVAL);
    TEST_OK (zmq_timers_cancel (timers, id));
    TEST_FAIL (zmq_timers_cancel (timers, id), EINVAL);
    /*  A cancelled timer is gone, as zmq_timers(3) documents.  */
    TEST_FAIL (zmq_timers_reset (timers, id), EINVAL);
    TEST_FAIL (zmq_timers_set_interval (timers, id, 10), EINVAL);
    TEST_ASSERT (zmq_timers_timeout (timers) == -1);
    TEST_FAIL (zmq_timers_add (timers, 10, NULL, NULL), EFAULT);
    TEST_OK (zmq_timers_destroy (&timers));
}

static void test_bad_handles (void)
{
    int n = 0;
    int junk[16] = {0};
    void *null = NULL;
    TEST_FAIL (zmq_timers_add (NULL, 10, count, &n), EFAULT);
    TEST_FAIL (zmq_timers_add (junk, 10, count, &n), EFAULT);
    TEST_FAIL (zmq_timers_cancel (NULL, 1), EFAULT);
    TEST_FAIL (zmq_timers_set_interval (NULL, 1, 10), EFAULT);
    TEST_FAIL (zmq_timers_reset (NULL, 1), EFAULT);
    TEST_FAIL (zmq_timers_timeout (NULL), EFAULT);
    TEST_FAIL (zmq_timers_execute (junk), EFAULT);
    TEST_FAIL (zmq_timers_destroy (&null), EFAULT);

    /*  A destroyed set's handle is dead, not dangling; a context is no timer set.  */
    void *timers = zmq_timers_new ();
    void *stale = timers;
    TEST_OK (zmq_timers_destroy (&timers));
    TEST_ASSERT (timers == NULL);
    TEST_FAIL (zmq_timers_destroy (&stale), EFAULT);
    TEST_FAIL (zmq_timers_add (stale, 10, count, &n), EFAULT);
    TEST_FAIL (zmq_timers_execute (stale), EFAULT);
    void *ctx = zmq_ctx_new ();
    TEST_FAIL (zmq_timers_timeout (ctx), EFAULT);
    TEST_OK (zmq_ctx_term (ctx));
}

/*  Handlers that change the set they run from.  */
static void *g_timers;
static int g_victim;
static int g_victim_runs;
static int g_killer_runs;

static void kill_victim (int timer_id, void *arg)
{
    (void) timer_id;
    (void) arg;
    g_killer_runs++;
    TEST_OK (zmq_timers_cancel (g_timers, g_victim));
}

static void victim (int timer_id, void *arg)
{
    (void) timer_id;
    (void) arg;
    g_victim_runs++;
}

static void test_cancel_other_from_handler (void)
{
    g_timers = zmq_timers_new ();
    g_killer_runs = g_victim_runs = 0;
    /*  Both due at once; the killer runs first and cancels the victim before its turn.  */
    TEST_ASSERT (zmq_timers_add (g_timers, 10, kill_victim, NULL) > 0);
    g_victim = zmq_timers_add (g_timers, 10, victim, NULL);
    run_until (g_timers, &g_killer_runs);
    TEST_ASSERT (g_killer_runs == 1);
    TEST_ASSERT (g_victim_runs == 0);
    TEST_FAIL (zmq_timers_cancel (g_timers, g_victim), EINVAL);
    TEST_OK (zmq_timers_destroy (&g_timers));
}

static int g_self_runs;

static void cancel_self (int timer_id, void *arg)
{
    (void) arg;
    g_self_runs++;
    TEST_OK (zmq_timers_cancel (g_timers, timer_id));
}

static void test_cancel_self_from_handler (void)
{
    g_timers = zmq_timers_new ();
    g_self_runs = 0;
    int id = zmq_timers_add (g_timers, 5, cancel_self, NULL);
    run_until (g_timers, &g_self_runs);
    TEST_ASSERT (zmq_timers_timeout (g_timers) == -1);
    msleep (20);
    TEST_OK (zmq_timers_execute (g_timers));
    TEST_ASSERT (g_self_runs == 1);
    TEST_FAIL (zmq_timers_cancel (g_timers, id), EINVAL);
    TEST_OK (zmq_timers_destroy (&g_timers));
}

static int g_added;
static int g_child_runs;

static void add_child (int timer_id, void *arg)
{
    (void) arg;
    g_added = zmq_timers_add (g_timers, 0, count, &g_child_runs);
    TEST_ASSERT (g_added > 0);
    TEST_OK (zmq_timers_cancel (g_timers, timer_id));
}

static void test_add_from_handler (void)
{
    g_timers = zmq_timers_new ();
    g_added = g_child_runs = 0;
    TEST_ASSERT (zmq_timers_add (g_timers, 5, add_child, NULL) > 0);
    run_until (g_timers, &g_added);
    /*  A timer added by a handler waits for the next execute, even with interval 0.  */
    TEST_ASSERT (g_child_runs == 0);
    TEST_ASSERT (zmq_timers_timeout (g_timers) == 0);
    TEST_OK (zmq_timers_execute (g_timers));
    TEST_ASSERT (g_child_runs == 1);
    TEST_OK (zmq_timers_destroy (&g_timers));
}

/*  Interval 0 runs once per execute (libzmq 4.3.4 would loop forever here).  */
static void test_zero_interval (void)
{
    void *timers = zmq_timers_new ();
    int n = 0;
    zmq_timers_add (timers, 0, count, &n);
    TEST_ASSERT (zmq_timers_timeout (timers) == 0);
    TEST_OK (zmq_timers_execute (timers));
    TEST_ASSERT (n == 1);
    TEST_OK (zmq_timers_execute (timers));
    TEST_ASSERT (n == 2);
    TEST_OK (zmq_timers_destroy (&timers));
}

static int g_destroyer_runs;
static int g_after_runs;

static void destroy_set (int timer_id, void *arg)
{
    (void) timer_id;
    (void) arg;
    g_destroyer_runs++;
    TEST_OK (zmq_timers_destroy (&g_timers));
}

static void test_destroy_from_handler (void)
{
    g_timers = zmq_timers_new ();
    void *handle = g_timers;
    g_destroyer_runs = g_after_runs = 0;
    zmq_timers_add (g_timers, 0, destroy_set, NULL);
    zmq_timers_add (g_timers, 0, count, &g_after_runs);
    TEST_OK (zmq_timers_execute (handle));
    TEST_ASSERT (g_destroyer_runs == 1);
    TEST_ASSERT (g_after_runs == 0);
    TEST_ASSERT (g_timers == NULL);
    TEST_FAIL (zmq_timers_execute (handle), EFAULT);
}

int main (void)
{
    test_setup (30);
    test_man_page ();
    test_ids_and_timeouts ();
    test_repeats ();
    test_set_interval_and_reset ();
    test_bad_ids ();
    test_bad_handles ();
    test_cancel_other_from_handler ();
    test_cancel_self_from_handler ();
    test_add_from_handler ();
    test_zero_interval ();
    test_destroy_from_handler ();
    return 0;
}
