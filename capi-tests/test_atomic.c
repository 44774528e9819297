/*  Atomic counters: the man page's sequence, wrap-around as libzmq's 32-bit counter, and
    increments from several threads started with zmq_threadstart.  */
#include "testutil.h"

static void test_man_page (void)
{
    void *counter = zmq_atomic_counter_new ();
    TEST_ASSERT (counter);
    TEST_ASSERT (zmq_atomic_counter_value (counter) == 0);
    TEST_ASSERT (zmq_atomic_counter_inc (counter) == 0);
    TEST_ASSERT (zmq_atomic_counter_inc (counter) == 1);
    TEST_ASSERT (zmq_atomic_counter_inc (counter) == 2);
    TEST_ASSERT (zmq_atomic_counter_value (counter) == 3);
    TEST_ASSERT (zmq_atomic_counter_dec (counter) == 1);
    TEST_ASSERT (zmq_atomic_counter_dec (counter) == 1);
    TEST_ASSERT (zmq_atomic_counter_dec (counter) == 0);
    zmq_atomic_counter_set (counter, 2);
    TEST_ASSERT (zmq_atomic_counter_dec (counter) == 1);
    TEST_ASSERT (zmq_atomic_counter_dec (counter) == 0);
    zmq_atomic_counter_destroy (&counter);
    TEST_ASSERT (counter == NULL);
}

/*  What Debian's libzmq 4.3.4 does past zero and at the top.  */
static void test_wrap (void)
{
    void *counter = zmq_atomic_counter_new ();
    TEST_ASSERT (zmq_atomic_counter_dec (counter) == 1);
    TEST_ASSERT (zmq_atomic_counter_value (counter) == -1);
    TEST_ASSERT (zmq_atomic_counter_inc (counter) == -1);
    TEST_ASSERT (zmq_atomic_counter_value (counter) == 0);
    zmq_atomic_counter_set (counter, -5);
    TEST_ASSERT (zmq_atomic_counter_value (counter) == -5);
    TEST_ASSERT (zmq_atomic_counter_dec (counter) == 1);
    TEST_ASSERT (zmq_atomic_counter_value (counter) == -6);
    zmq_atomic_counter_set (counter, INT_MAX);
    TEST_ASSERT (zmq_atomic_counter_inc (counter) == INT_MAX);
    TEST_ASSERT (zmq_atomic_counter_value (counter) == INT_MIN);
    zmq_atomic_counter_destroy (&counter);
}

static void test_destroy_null (void)
{
    void *counter = NULL;
    zmq_atomic_counter_destroy (&counter);
    TEST_ASSERT (counter == NULL);
}

/*  libzmq would crash on these; ferrozmq fails them with EFAULT.  */
static void test_bad_handles (void)
{
    int junk[16] = {0};
    errno = 0;
    TEST_ASSERT (zmq_atomic_counter_value (NULL) == -1);
    TEST_ASSERT (errno == EFAULT);
    errno = 0;
    TEST_ASSERT (zmq_atomic_counter_inc (junk) == -1);
    TEST_ASSERT (errno == EFAULT);
    errno = 0;
    zmq_atomic_counter_set (NULL, 1);
    TEST_ASSERT (errno == EFAULT);

    void *counter = zmq_atomic_counter_new ();
    void *stale = counter;
    zmq_atomic_counter_destroy (&counter);
    errno = 0;
    TEST_ASSERT (zmq_atomic_counter_dec (stale) == -1);
    TEST_ASSERT (errno == EFAULT);
    errno = 0;
    zmq_atomic_counter_destroy (&stale);
    TEST_ASSERT (errno == EFAULT);
    zmq_atomic_counter_destroy (NULL);
}

#define THREADS 8
#define ROUNDS 100000

static void bump (void *counter)
{
    for (int i = 0; i < ROUNDS; i++)
        zmq_atomic_counter_inc (counter);
    for (int i = 0; i < ROUNDS / 2; i++)
        zmq_atomic_counter_dec (counter);
}

static void test_threads (void)
{
    void *counter = zmq_atomic_counter_new ();
    void *threads[THREADS];
    for (int i = 0; i < THREADS; i++) {
        threads[i] = zmq_threadstart (bump, counter);
        TEST_ASSERT (threads[i]);
    }
    for (int i = 0; i < THREADS; i++)
        zmq_threadclose (threads[i]);
    TEST_ASSERT (zmq_atomic_counter_value (counter) == THREADS * ROUNDS / 2);
    zmq_atomic_counter_destroy (&counter);
}

/*  The last of many owners, and only the last, sees 0 from dec: reference counting.  */
static void *last_seen;

static void release (void *counter)
{
    if (zmq_atomic_counter_dec (counter) == 0)
        zmq_atomic_counter_inc (last_seen);
}

static void test_refcount (void)
{
    void *counter = zmq_atomic_counter_new ();
    last_seen = zmq_atomic_counter_new ();
    zmq_atomic_counter_set (counter, THREADS);
    void *threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        threads[i] = zmq_threadstart (release, counter);
    for (int i = 0; i < THREADS; i++)
        zmq_threadclose (threads[i]);
    TEST_ASSERT (zmq_atomic_counter_value (counter) == 0);
    TEST_ASSERT (zmq_atomic_counter_value (last_seen) == 1);
    zmq_atomic_counter_destroy (&counter);
    zmq_atomic_counter_destroy (&last_seen);
}

int main (void)
{
    test_setup (30);
    test_man_page ();
    test_wrap ();
    test_destroy_null ();
    test_bad_handles ();
    test_threads ();
    test_refcount ();
    return 0;
}
