/*  zmq_disconnect of an endpoint that is waiting to reconnect: the monitor still sees
    ZMQ_EVENT_CLOSED (libzmq's pending attempt runs and closes), so a program waiting for
    CLOSED does not hang. Checked against Debian's libzmq with -DLIBZMQ_REFERENCE.  */
#include "netutil.h"

int main (void)
{
    net_setup ();
    void *ctx = zmq_ctx_new ();
    void *s = new_socket (ctx, ZMQ_DEALER);
    set_int (s, ZMQ_RECONNECT_IVL, 200);
    void *mon = monitor_open (ctx, s, "inproc://disc-mon", ZMQ_EVENT_ALL);
    char ep[64];
    snprintf (ep, sizeof ep, "tcp://127.0.0.1:%d", free_port ());
    TEST_OK (zmq_connect (s, ep));
    /*  Refused, closed, waiting to retry.  */
    expect_event_skip (mon, ZMQ_EVENT_CONNECT_RETRIED,
                       ZMQ_EVENT_CONNECT_DELAYED | ZMQ_EVENT_CLOSED, 5000, NULL, 0);
    TEST_OK (zmq_disconnect (s, ep));
    expect_event_skip (mon, ZMQ_EVENT_CLOSED,
                       ZMQ_EVENT_CONNECT_DELAYED | ZMQ_EVENT_CONNECT_RETRIED, 2000, NULL, 0);
    TEST_OK (zmq_socket_monitor (s, NULL, 0));
    zmq_close (mon);
    set_int (s, ZMQ_LINGER, 0);
    zmq_close (s);
    zmq_ctx_term (ctx);
    return 0;
}
