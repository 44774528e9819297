/*  The deprecated zmq_sendiov/zmq_recviov as libzmq 4.3 implements them (they have no man
    page): sendiov sends one part per iovec with the caller's flags, clearing ZMQ_SNDMORE
    only on the last, and returns the size of the last part; recviov stores up to *count
    parts of one message in malloc()ed buffers and returns the number of parts.  */
#include "refutil.h"
#include <sys/uio.h>

static void expect_part (void *s, const char *data, size_t len, int more)
{
    zmq_msg_t m;
    TEST_OK (zmq_msg_init (&m));
    TEST_ASSERT (zmq_msg_recv (&m, s, ZMQ_DONTWAIT) == (int) len);
    TEST_ASSERT (memcmp (zmq_msg_data (&m), data, len) == 0);
    TEST_ASSERT (zmq_msg_more (&m) == more);
    TEST_OK (zmq_msg_close (&m));
}

int main (void)
{
    ref_setup (20);
    void *ctx = zmq_ctx_new ();
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    TEST_OK (zmq_bind (a, "inproc://iov"));
    TEST_OK (zmq_connect (b, "inproc://iov"));

    struct iovec v[3] = {{(void *) "hello", 5}, {(void *) "ab", 2}, {(void *) "wxyz", 4}};
    /*  Without ZMQ_SNDMORE: three separate messages; the result is the last part's size.  */
    TEST_ASSERT (zmq_sendiov (a, v, 3, 0) == 4);
    expect_part (b, "hello", 5, 0);
    expect_part (b, "ab", 2, 0);
    expect_part (b, "wxyz", 4, 0);
    /*  With it: one message of three parts.  */
    TEST_ASSERT (zmq_sendiov (a, v, 3, ZMQ_SNDMORE) == 4);
    expect_part (b, "hello", 5, 1);
    expect_part (b, "ab", 2, 1);
    expect_part (b, "wxyz", 4, 0);
    /*  An empty last part gives 0.  */
    struct iovec e[2] = {{(void *) "abc", 3}, {NULL, 0}};
    TEST_ASSERT (zmq_sendiov (a, e, 2, ZMQ_SNDMORE) == 0);
    expect_part (b, "abc", 3, 1);
    expect_part (b, "", 0, 0);
    TEST_FAIL (zmq_sendiov (a, v, 0, 0), EINVAL);
    TEST_FAIL (zmq_sendiov (a, NULL, 1, 0), EINVAL);

    /*  recviov: the number of parts, not their bytes.  */
    TEST_ASSERT (zmq_send (a, "one", 3, ZMQ_SNDMORE) == 3);
    TEST_ASSERT (zmq_send (a, "fifteen", 7, 0) == 7);
    struct iovec in[4];
    size_t count = 4;
    TEST_ASSERT (zmq_recviov (b, in, &count, 0) == 2);
    TEST_ASSERT (count == 2);
    TEST_ASSERT (in[0].iov_len == 3 && memcmp (in[0].iov_base, "one", 3) == 0);
    TEST_ASSERT (in[1].iov_len == 7 && memcmp (in[1].iov_base, "fifteen", 7) == 0);
    free (in[0].iov_base);
    free (in[1].iov_base);
    /*  Nothing pending: -1/EAGAIN and no part stored.  */
    count = 4;
    TEST_FAIL (zmq_recviov (b, in, &count, ZMQ_DONTWAIT), EAGAIN);
    TEST_ASSERT (count == 0);

    TEST_OK (zmq_close (a));
    TEST_OK (zmq_close (b));
    TEST_OK (zmq_ctx_term (ctx));
    return 0;
}
