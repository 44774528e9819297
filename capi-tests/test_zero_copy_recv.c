/*  The context's ZMQ_ZERO_COPY_RECV: with it on (the default), bodies received in one read
    point into the shared receive buffer (two 100-byte messages sent together land 102 bytes
    apart: a 2-byte frame header between them); with it off, each body is a copy of its own.
    Either way the bodies stay intact while later messages arrive. Checked against Debian's
    libzmq with -DLIBZMQ_REFERENCE.  */
#define ZMQ_BUILD_DRAFT_API
#include "netutil.h"

/*  Sends `n` 100-byte messages (byte i in message i) in one batch and keeps them all.  */
static void receive_batch (int zero_copy, const char *transport)
{
    void *ctx = zmq_ctx_new ();
    TEST_OK (zmq_ctx_set (ctx, ZMQ_ZERO_COPY_RECV, zero_copy));
    TEST_ASSERT (zmq_ctx_get (ctx, ZMQ_ZERO_COPY_RECV) == zero_copy);
    void *pull = new_socket (ctx, ZMQ_PULL);
    void *push = new_socket (ctx, ZMQ_PUSH);
    char ep[256];
    bind_at (pull, transport, ep, sizeof ep);
    TEST_OK (zmq_connect (push, ep));
    enum { N = 20 };
    char body[100];
    /*  Queued during the handshake, so they go out (and arrive) together.  */
    for (int i = 0; i < N; i++) {
        memset (body, i, sizeof body);
        TEST_ASSERT (zmq_send (push, body, sizeof body, 0) == (int) sizeof body);
    }
    set_int (pull, ZMQ_RCVTIMEO, 5000);
    zmq_msg_t msgs[N];
    int adjacent = 0;
    for (int i = 0; i < N; i++) {
        zmq_msg_init (&msgs[i]);
        TEST_ASSERT (zmq_msg_recv (&msgs[i], pull, 0) == 100);
        if (i > 0
            && (char *) zmq_msg_data (&msgs[i]) == (char *) zmq_msg_data (&msgs[i - 1]) + 102)
            adjacent++;
    }
    /*  More traffic must not disturb the bodies still held.  */
    for (int i = 0; i < 200; i++) {
        memset (body, 0xee, sizeof body);
        TEST_ASSERT (zmq_send (push, body, sizeof body, 0) == (int) sizeof body);
        TEST_ASSERT (zmq_recv (pull, body, sizeof body, 0) == 100);
    }
    for (int i = 0; i < N; i++) {
        memset (body, i, sizeof body);
        TEST_ASSERT (memcmp (zmq_msg_data (&msgs[i]), body, sizeof body) == 0);
        zmq_msg_close (&msgs[i]);
    }
    printf ("%s zero_copy=%d: %d of %d bodies adjacent\n", transport, zero_copy, adjacent, N - 1);
    if (zero_copy)
        TEST_ASSERT (adjacent >= 1); /* most, unless a loaded machine splits the batch */
    else
        TEST_ASSERT (adjacent == 0);
    zmq_close (push);
    zmq_close (pull);
    zmq_ctx_term (ctx);
}

int main (void)
{
    net_setup ();
    receive_batch (1, "tcp://127.0.0.1:*");
    receive_batch (0, "tcp://127.0.0.1:*");
    receive_batch (1, "ipc://*");
    receive_batch (0, "ipc://*");
    return 0;
}
