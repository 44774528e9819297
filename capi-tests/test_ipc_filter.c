/*  ipc accept filters (ZMQ_IPC_FILTER_UID/GID/PID, checked with SO_PEERCRED) and the
    Peer-Address of ipc messages ("localhost:uid:gid:pid"). A refused peer is closed with
    ZMQ_EVENT_ACCEPT_FAILED and never gets a message through. Checked against Debian's
    libzmq with -DLIBZMQ_REFERENCE.  */
#include "netutil.h"

/*  A ROUTER on ipc with one filter option set to `value` (or none when option is 0); a
    DEALER of this process connects and sends. `admitted`: whether the message arrives.  */
static void try_filter (void *ctx, int option, int value, int admitted)
{
    void *server = new_socket (ctx, ZMQ_ROUTER);
    set_int (server, ZMQ_LINGER, 0);
    if (option)
        TEST_OK (zmq_setsockopt (server, option, &value, sizeof value));
    static int n;
    char monep[64];
    snprintf (monep, sizeof monep, "inproc://ipcf-%d", n++);
    void *mon = monitor_open (ctx, server, monep, ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_ACCEPT_FAILED);
    char ep[256];
    bind_at (server, "ipc://*", ep, sizeof ep);
    void *client = new_socket (ctx, ZMQ_DEALER);
    set_int (client, ZMQ_LINGER, 0);
    TEST_OK (zmq_connect (client, ep));
    TEST_ASSERT (zmq_send (client, "hi", 2, ZMQ_DONTWAIT) == 2);
    if (admitted) {
        expect_event (mon, ZMQ_EVENT_ACCEPTED, NULL);
        set_int (server, ZMQ_RCVTIMEO, 5000);
        zmq_msg_t m;
        zmq_msg_init (&m);
        TEST_ASSERT (zmq_msg_recv (&m, server, 0) > 0); /* routing id */
        TEST_ASSERT (zmq_msg_recv (&m, server, 0) == 2);
        char want[128];
        snprintf (want, sizeof want, "localhost:%u:%u:%d", (unsigned) getuid (), (unsigned) getgid (),
                  (int) getpid ());
        const char *addr = zmq_msg_gets (&m, "Peer-Address");
        if (!addr || strcmp (addr, want) != 0) {
            fprintf (stderr, "Peer-Address '%s', expected '%s'\n", addr ? addr : "(null)", want);
            TEST_ASSERT (0);
        }
        zmq_msg_close (&m);
    } else {
        expect_event (mon, ZMQ_EVENT_ACCEPT_FAILED, NULL);
        recv_nothing (server, 200);
    }
    TEST_OK (zmq_socket_monitor (server, NULL, 0));
    zmq_close (mon);
    zmq_close (client);
    zmq_close (server);
}

int main (void)
{
    net_setup ();
    void *ctx = zmq_ctx_new ();
    try_filter (ctx, 0, 0, 1);
    try_filter (ctx, ZMQ_IPC_FILTER_UID, (int) getuid (), 1);
    try_filter (ctx, ZMQ_IPC_FILTER_UID, (int) getuid () + 4242, 0);
    try_filter (ctx, ZMQ_IPC_FILTER_GID, (int) getgid (), 1);
    try_filter (ctx, ZMQ_IPC_FILTER_GID, (int) getgid () + 4242, 0);
    try_filter (ctx, ZMQ_IPC_FILTER_PID, (int) getpid (), 1);
    try_filter (ctx, ZMQ_IPC_FILTER_PID, (int) getpid () + 1, 0);
    zmq_ctx_term (ctx);
    return 0;
}
