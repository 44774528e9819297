/*  Contexts: creation, options with libzmq's defaults and validation, termination.  */
#include "testutil.h"

static void test_defaults (void)
{
    void *ctx = zmq_ctx_new ();
    TEST_ASSERT (ctx);
    TEST_ASSERT (zmq_ctx_get (ctx, ZMQ_IO_THREADS) == ZMQ_IO_THREADS_DFLT);
    TEST_ASSERT (zmq_ctx_get (ctx, ZMQ_MAX_SOCKETS) == ZMQ_MAX_SOCKETS_DFLT);
    TEST_ASSERT (zmq_ctx_get (ctx, ZMQ_SOCKET_LIMIT) == 65535);
    TEST_ASSERT (zmq_ctx_get (ctx, ZMQ_IPV6) == 0);
    TEST_ASSERT (zmq_ctx_get (ctx, ZMQ_BLOCKY) == 1);
    TEST_ASSERT (zmq_ctx_get (ctx, ZMQ_MAX_MSGSZ) == INT_MAX);
    TEST_ASSERT (zmq_ctx_get (ctx, ZMQ_MSG_T_SIZE) == (int) sizeof (zmq_msg_t));
    TEST_ASSERT (zmq_ctx_get (ctx, ZMQ_THREAD_SCHED_POLICY) == ZMQ_THREAD_SCHED_POLICY_DFLT);
    TEST_FAIL (zmq_ctx_get (ctx, 12345), EINVAL);
    TEST_OK (zmq_ctx_term (ctx));
}

static void test_set (void)
{
    void *ctx = zmq_ctx_new ();
    TEST_OK (zmq_ctx_set (ctx, ZMQ_IO_THREADS, 3));
    TEST_ASSERT (zmq_ctx_get (ctx, ZMQ_IO_THREADS) == 3);
    TEST_FAIL (zmq_ctx_set (ctx, ZMQ_IO_THREADS, -1), EINVAL);
    TEST_OK (zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 5));
    TEST_ASSERT (zmq_ctx_get (ctx, ZMQ_MAX_SOCKETS) == 5);
    TEST_FAIL (zmq_ctx_set (ctx, ZMQ_MAX_SOCKETS, 0), EINVAL);
    TEST_OK (zmq_ctx_set (ctx, ZMQ_IPV6, 1));
    TEST_ASSERT (zmq_ctx_get (ctx, ZMQ_IPV6) == 1);
    TEST_OK (zmq_ctx_set (ctx, ZMQ_BLOCKY, 0));
    TEST_ASSERT (zmq_ctx_get (ctx, ZMQ_BLOCKY) == 0);
    TEST_FAIL (zmq_ctx_set (ctx, ZMQ_BLOCKY, -1), EINVAL);
    TEST_OK (zmq_ctx_set (ctx, ZMQ_MAX_MSGSZ, 1000));
    TEST_ASSERT (zmq_ctx_get (ctx, ZMQ_MAX_MSGSZ) == 1000);
    TEST_FAIL (zmq_ctx_set (ctx, ZMQ_MAX_MSGSZ, -5), EINVAL);
    TEST_OK (zmq_ctx_set (ctx, ZMQ_THREAD_PRIORITY, 10));
    TEST_OK (zmq_ctx_set (ctx, ZMQ_THREAD_SCHED_POLICY, 0));
    TEST_ASSERT (zmq_ctx_get (ctx, ZMQ_THREAD_SCHED_POLICY) == 0);
    TEST_OK (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_ADD, 0));
    TEST_OK (zmq_ctx_set (ctx, ZMQ_THREAD_AFFINITY_CPU_REMOVE, 0));
    TEST_OK (zmq_ctx_set (ctx, ZMQ_THREAD_NAME_PREFIX, 42));
    TEST_ASSERT (zmq_ctx_get (ctx, ZMQ_THREAD_NAME_PREFIX) == 42);
    TEST_FAIL (zmq_ctx_set (ctx, 12345, 1), EINVAL);
    TEST_FAIL (zmq_ctx_set (ctx, ZMQ_MSG_T_SIZE, 1), EINVAL);
    TEST_OK (zmq_ctx_term (ctx));
}

static void test_bad_handles (void)
{
    int not_a_ctx[16] = {0};
    TEST_FAIL (zmq_ctx_get (NULL, ZMQ_IO_THREADS), EFAULT);
    TEST_FAIL (zmq_ctx_set (NULL, ZMQ_IO_THREADS, 1), EFAULT);
    TEST_FAIL (zmq_ctx_term (NULL), EFAULT);
    TEST_FAIL (zmq_ctx_shutdown (NULL), EFAULT);
    TEST_FAIL (zmq_ctx_get (not_a_ctx, ZMQ_IO_THREADS), EFAULT);

    /*  A terminated context's handle is dead, not dangling.  */
    void *ctx = zmq_ctx_new ();
    TEST_OK (zmq_ctx_term (ctx));
    TEST_FAIL (zmq_ctx_get (ctx, ZMQ_IO_THREADS), EFAULT);
    TEST_FAIL (zmq_ctx_term (ctx), EFAULT);
}

static void test_deprecated (void)
{
    void *ctx = zmq_init (2);
    TEST_ASSERT (ctx);
    TEST_ASSERT (zmq_ctx_get (ctx, ZMQ_IO_THREADS) == 2);
    TEST_OK (zmq_term (ctx));
    errno = 0;
    TEST_ASSERT (zmq_init (-1) == NULL);
    TEST_ASSERT (errno == EINVAL);
    ctx = zmq_ctx_new ();
    TEST_OK (zmq_ctx_shutdown (ctx));
    TEST_OK (zmq_ctx_shutdown (ctx));
    TEST_OK (zmq_ctx_destroy (ctx));
}

static void test_many (void)
{
    for (int i = 0; i < 100; i++) {
        void *ctx = zmq_ctx_new ();
        TEST_ASSERT (ctx);
        TEST_OK (zmq_ctx_term (ctx));
    }
}

int main (void)
{
    test_setup (30);
    test_defaults ();
    test_set ();
    test_bad_handles ();
    test_deprecated ();
    test_many ();
    return 0;
}
