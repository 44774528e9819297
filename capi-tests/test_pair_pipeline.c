/*  PAIR, PUSH/PULL and DEALER over inproc: delivery, multipart, HWM, endpoints.  */
#include "testutil.h"
#include <pthread.h>
#include <sys/uio.h>

static void send_str (void *s, const char *str, int flags)
{
    TEST_ASSERT (zmq_send (s, str, strlen (str), flags) == (int) strlen (str));
}

static void recv_str (void *s, const char *expect)
{
    char buf[256];
    int n = zmq_recv (s, buf, sizeof buf, 0);
    TEST_ASSERT (n == (int) strlen (expect));
    TEST_ASSERT (memcmp (buf, expect, n) == 0);
}

static void test_pair (void *ctx)
{
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    TEST_OK (zmq_bind (a, "inproc://pair"));
    TEST_OK (zmq_connect (b, "inproc://pair"));
    send_str (b, "hello", 0);
    recv_str (a, "hello");
    send_str (a, "one", ZMQ_SNDMORE);
    send_str (a, "two", 0);
    recv_str (b, "one");
    int more;
    size_t sz = sizeof more;
    TEST_OK (zmq_getsockopt (b, ZMQ_RCVMORE, &more, &sz));
    TEST_ASSERT (more == 1);
    recv_str (b, "two");
    TEST_OK (zmq_getsockopt (b, ZMQ_RCVMORE, &more, &sz));
    TEST_ASSERT (more == 0);
    char buf[8];
    TEST_FAIL (zmq_recv (b, buf, sizeof buf, ZMQ_DONTWAIT), EAGAIN);
    /*  Truncation returns the full size.  */
    send_str (a, "0123456789", 0);
    TEST_ASSERT (zmq_recv (b, buf, 4, 0) == 10);
    TEST_ASSERT (memcmp (buf, "0123", 4) == 0);
    TEST_OK (zmq_close (a));
    TEST_OK (zmq_close (b));
}

static void test_connect_before_bind (void *ctx)
{
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    TEST_OK (zmq_connect (push, "inproc://later"));
    send_str (push, "early", 0);
    TEST_OK (zmq_bind (pull, "inproc://later"));
    recv_str (pull, "early");
    TEST_OK (zmq_close (push));
    TEST_OK (zmq_close (pull));
}

static void test_endpoint_errors (void *ctx)
{
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    TEST_OK (zmq_bind (a, "inproc://taken"));
    TEST_FAIL (zmq_bind (b, "inproc://taken"), EADDRINUSE);
    TEST_FAIL (zmq_bind (b, "nonsense"), EINVAL);
    TEST_FAIL (zmq_bind (b, "foo://bar"), EPROTONOSUPPORT);
    TEST_FAIL (zmq_bind (b, "inproc://"), EINVAL);
    TEST_FAIL (zmq_unbind (b, "inproc://nothere"), ENOENT);
    TEST_FAIL (zmq_disconnect (b, "inproc://nothere"), ENOENT);
    char ep[64];
    size_t sz = sizeof ep;
    TEST_OK (zmq_getsockopt (a, ZMQ_LAST_ENDPOINT, ep, &sz));
    TEST_ASSERT (strcmp (ep, "inproc://taken") == 0);
    TEST_OK (zmq_unbind (a, "inproc://taken"));
    TEST_OK (zmq_bind (b, "inproc://taken"));
    TEST_OK (zmq_close (a));
    TEST_OK (zmq_close (b));
    TEST_FAIL (zmq_close (a), ENOTSOCK);
    TEST_FAIL (zmq_send (a, "x", 1, 0), ENOTSOCK);
    TEST_ASSERT (zmq_socket (ctx, 12345) == NULL && errno == EINVAL);
}

static void test_push_pull_lb (void *ctx)
{
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    void *p1 = zmq_socket (ctx, ZMQ_PULL);
    void *p2 = zmq_socket (ctx, ZMQ_PULL);
    TEST_OK (zmq_bind (push, "inproc://lb"));
    TEST_OK (zmq_connect (p1, "inproc://lb"));
    TEST_OK (zmq_connect (p2, "inproc://lb"));
    for (int i = 0; i < 10; i++)
        send_str (push, "m", 0);
    int n1 = 0, n2 = 0;
    char buf[4];
    while (zmq_recv (p1, buf, sizeof buf, ZMQ_DONTWAIT) == 1)
        n1++;
    while (zmq_recv (p2, buf, sizeof buf, ZMQ_DONTWAIT) == 1)
        n2++;
    TEST_ASSERT (n1 == 5 && n2 == 5);
    /*  PULL cannot send; PUSH cannot receive.  */
    TEST_FAIL (zmq_send (p1, "x", 1, 0), ENOTSUP);
    TEST_FAIL (zmq_recv (push, buf, sizeof buf, 0), ENOTSUP);
    zmq_close (push);
    zmq_close (p1);
    zmq_close (p2);
}

static void test_hwm (void *ctx)
{
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    int hwm = 5;
    TEST_OK (zmq_setsockopt (push, ZMQ_SNDHWM, &hwm, sizeof hwm));
    TEST_OK (zmq_setsockopt (pull, ZMQ_RCVHWM, &hwm, sizeof hwm));
    TEST_OK (zmq_bind (pull, "inproc://hwm"));
    TEST_OK (zmq_connect (push, "inproc://hwm"));
    int sent = 0;
    while (zmq_send (push, "x", 1, ZMQ_DONTWAIT) == 1)
        sent++;
    TEST_ASSERT (errno == EAGAIN);
    TEST_ASSERT (sent == 10); /* sndhwm + rcvhwm, as libzmq's inproc */
    char buf[4];
    for (int i = 0; i < sent; i++)
        TEST_ASSERT (zmq_recv (pull, buf, sizeof buf, 0) == 1);
    /*  Reading woke the writer: it can send again.  */
    TEST_ASSERT (zmq_send (push, "x", 1, ZMQ_DONTWAIT) == 1);
    int timeout = 50;
    TEST_OK (zmq_setsockopt (pull, ZMQ_RCVTIMEO, &timeout, sizeof timeout));
    TEST_ASSERT (zmq_recv (pull, buf, sizeof buf, 0) == 1);
    TEST_FAIL (zmq_recv (pull, buf, sizeof buf, 0), EAGAIN);
    zmq_close (push);
    zmq_close (pull);
}

static void *sender (void *arg)
{
    void *push = arg;
    for (int i = 0; i < 100000; i++) {
        int v = i;
        TEST_ASSERT (zmq_send (push, &v, sizeof v, 0) == sizeof v);
    }
    return NULL;
}

static void test_threads (void *ctx)
{
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    TEST_OK (zmq_bind (pull, "inproc://threads"));
    TEST_OK (zmq_connect (push, "inproc://threads"));
    pthread_t t;
    pthread_create (&t, NULL, sender, push);
    for (int i = 0; i < 100000; i++) {
        int v;
        TEST_ASSERT (zmq_recv (pull, &v, sizeof v, 0) == sizeof v);
        TEST_ASSERT (v == i);
    }
    pthread_join (t, NULL);
    zmq_close (push);
    zmq_close (pull);
}

static void test_dealer (void *ctx)
{
    void *d1 = zmq_socket (ctx, ZMQ_DEALER);
    void *d2 = zmq_socket (ctx, ZMQ_DEALER);
    TEST_OK (zmq_bind (d1, "inproc://dealer"));
    TEST_OK (zmq_connect (d2, "inproc://dealer"));
    send_str (d2, "a", ZMQ_SNDMORE);
    send_str (d2, "b", 0);
    recv_str (d1, "a");
    recv_str (d1, "b");
    send_str (d1, "back", 0);
    recv_str (d2, "back");
    zmq_close (d1);
    zmq_close (d2);
}

static void test_conflate (void *ctx)
{
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    int one = 1;
    TEST_OK (zmq_setsockopt (pull, ZMQ_CONFLATE, &one, sizeof one));
    TEST_OK (zmq_bind (pull, "inproc://conflate"));
    TEST_OK (zmq_connect (push, "inproc://conflate"));
    for (int i = 0; i < 2000; i++) /* far beyond the HWM: conflation has none */
        TEST_ASSERT (zmq_send (push, &i, sizeof i, ZMQ_DONTWAIT) == sizeof i);
    int v;
    TEST_ASSERT (zmq_recv (pull, &v, sizeof v, 0) == sizeof v);
    TEST_ASSERT (v == 1999);
    TEST_FAIL (zmq_recv (pull, &v, sizeof v, ZMQ_DONTWAIT), EAGAIN);
    zmq_close (pull);
    zmq_close (push);
}

static void test_send_variants (void *ctx)
{
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    TEST_OK (zmq_bind (a, "inproc://variants"));
    TEST_OK (zmq_connect (b, "inproc://variants"));
    int type;
    size_t sz = sizeof type;
    TEST_OK (zmq_getsockopt (a, ZMQ_TYPE, &type, &sz));
    TEST_ASSERT (type == ZMQ_PAIR && sz == sizeof type);

    /*  Constant data travels without a copy and arrives intact.  */
    static const char konst[] = "constant data that is never freed";
    TEST_ASSERT (zmq_send_const (b, konst, sizeof konst, 0) == (int) sizeof konst);
    zmq_msg_t m;
    TEST_OK (zmq_msg_init (&m));
    TEST_ASSERT (zmq_msg_recv (&m, a, 0) == (int) sizeof konst);
    TEST_ASSERT (memcmp (zmq_msg_data (&m), konst, sizeof konst) == 0);

    /*  zmq_msg_send empties the message; zmq_msg_recv replaces what it held.  */
    zmq_msg_t out;
    TEST_OK (zmq_msg_init_size (&out, 100));
    memset (zmq_msg_data (&out), 'x', 100);
    TEST_ASSERT (zmq_msg_send (&out, b, 0) == 100);
    TEST_ASSERT (zmq_msg_size (&out) == 0);
    TEST_OK (zmq_msg_close (&out));
    TEST_ASSERT (zmq_msg_recv (&m, a, 0) == 100);
    TEST_ASSERT (((char *) zmq_msg_data (&m))[99] == 'x');
    /*  A failed send leaves the message with the caller.  */
    void *lonely = zmq_socket (ctx, ZMQ_PAIR);
    TEST_OK (zmq_msg_init_size (&out, 3));
    TEST_FAIL (zmq_msg_send (&out, lonely, ZMQ_DONTWAIT), EAGAIN);
    TEST_ASSERT (zmq_msg_size (&out) == 3);
    TEST_OK (zmq_msg_close (&out));
    zmq_close (lonely);
    TEST_OK (zmq_msg_close (&m));

    /*  Deprecated forms.  */
    TEST_OK (zmq_msg_init_size (&out, 2));
    memcpy (zmq_msg_data (&out), "hi", 2);
    TEST_ASSERT (zmq_sendmsg (b, &out, 0) == 2);
    TEST_OK (zmq_msg_init (&m));
    TEST_ASSERT (zmq_recvmsg (a, &m, 0) == 2);
    TEST_OK (zmq_msg_close (&m));
    TEST_OK (zmq_msg_close (&out));

    struct iovec iov[3] = {{(void *) "one", 3}, {(void *) "", 0}, {(void *) "three", 5}};
    /*  libzmq: ZMQ_SNDMORE makes the parts one message; the size of the last part and the
        number of parts come back (test_iov checks the details).  */
    TEST_ASSERT (zmq_sendiov (b, iov, 3, ZMQ_SNDMORE) == 5);
    struct iovec in[4];
    size_t count = 4;
    TEST_ASSERT (zmq_recviov (a, in, &count, 0) == 3);
    TEST_ASSERT (count == 3);
    TEST_ASSERT (in[0].iov_len == 3 && memcmp (in[0].iov_base, "one", 3) == 0);
    TEST_ASSERT (in[1].iov_len == 0);
    TEST_ASSERT (in[2].iov_len == 5 && memcmp (in[2].iov_base, "three", 5) == 0);
    for (size_t i = 0; i < count; i++)
        free (in[i].iov_base);
    zmq_close (a);
    zmq_close (b);
}

int main (void)
{
    test_setup (60);
    void *ctx = zmq_ctx_new ();
    test_pair (ctx);
    test_connect_before_bind (ctx);
    test_endpoint_errors (ctx);
    test_push_pull_lb (ctx);
    test_hwm (ctx);
    test_threads (ctx);
    test_dealer (ctx);
    test_conflate (ctx);
    test_send_variants (ctx);
    TEST_OK (zmq_ctx_term (ctx));
    return 0;
}
