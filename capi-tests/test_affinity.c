/*  ZMQ_AFFINITY picks the I/O threads a socket's later binds and connects may use (bit n =
    thread n): a mask naming no existing thread fails with EMTHREAD, as in libzmq, and a
    mask naming one carries traffic. Checked against Debian's libzmq with
    -DLIBZMQ_REFERENCE.  */
#include "netutil.h"

static void set_affinity (void *s, uint64_t mask)
{
    TEST_OK (zmq_setsockopt (s, ZMQ_AFFINITY, &mask, sizeof mask));
}

int main (void)
{
    net_setup ();
    void *ctx = zmq_ctx_new ();
    TEST_OK (zmq_ctx_set (ctx, ZMQ_IO_THREADS, 2));
    void *push = new_socket (ctx, ZMQ_PUSH);
    void *pull = new_socket (ctx, ZMQ_PULL);
    set_int (push, ZMQ_LINGER, 0);
    set_int (pull, ZMQ_LINGER, 0);
    set_affinity (pull, 1u << 5);
    TEST_FAIL (zmq_bind (pull, "tcp://127.0.0.1:*"), EMTHREAD);
    TEST_FAIL (zmq_connect (pull, "tcp://127.0.0.1:5555"), EMTHREAD);
    /*  Thread 1 only on one side, thread 0 only on the other.  */
    set_affinity (pull, 2);
    char ep[256];
    bind_at (pull, "tcp://127.0.0.1:*", ep, sizeof ep);
    set_affinity (push, 1);
    TEST_OK (zmq_connect (push, ep));
    send_str (push, "through");
    recv_str (pull, "through");
    zmq_close (push);
    zmq_close (pull);
    zmq_ctx_term (ctx);
    return 0;
}
