/*  fork(): a child inherits a context and its sockets without the I/O threads. As in
    libzmq, the child may close the inherited sockets (0) and zmq_ctx_term answers -1/EINTR
    at once instead of waiting for threads that are not there, without disturbing the
    parent's connections; the child then makes its own context and talks to the parent,
    which goes on working.  */
#include "refutil.h"
#include <sys/wait.h>

static void set_int (void *s, int option, int value)
{
    TEST_OK (zmq_setsockopt (s, option, &value, sizeof value));
}

static void recv_expect (void *s, const char *want)
{
    char buf[32];
    set_int (s, ZMQ_RCVTIMEO, 5000);
    int n = zmq_recv (s, buf, sizeof buf, 0);
    TEST_ASSERT (n == (int) strlen (want) && memcmp (buf, want, n) == 0);
}

/*  Large bodies come from the message pool, which a child of fork() must leave alone
    (a parent thread may have been inside it at the fork) and still work without.  */
static void send_big (void *s, size_t size, char fill)
{
    zmq_msg_t msg;
    TEST_OK (zmq_msg_init_size (&msg, size));
    memset (zmq_msg_data (&msg), fill, size);
    TEST_ASSERT (zmq_msg_send (&msg, s, 0) == (int) size);
}

static void recv_big (void *s, size_t size, char fill)
{
    zmq_msg_t msg;
    TEST_OK (zmq_msg_init (&msg));
    TEST_ASSERT (zmq_msg_recv (&msg, s, 0) == (int) size);
    const char *data = (const char *) zmq_msg_data (&msg);
    for (size_t i = 0; i < size; i++)
        TEST_ASSERT (data[i] == fill);
    TEST_OK (zmq_msg_close (&msg));
}

int main (void)
{
    ref_setup (30);
    void *ctx = zmq_ctx_new ();
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    TEST_ASSERT (pull);
    TEST_OK (zmq_bind (pull, "tcp://127.0.0.1:*"));
    char ep[128];
    size_t len = sizeof ep;
    TEST_OK (zmq_getsockopt (pull, ZMQ_LAST_ENDPOINT, ep, &len));
    /*  A live connection and an inproc pair the child inherits too.  */
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    set_int (push, ZMQ_LINGER, 0);
    TEST_OK (zmq_connect (push, ep));
    TEST_ASSERT (zmq_send (push, "before", 6, 0) == 6);
    recv_expect (pull, "before");
    for (int i = 0; i < 50; i++) {
        send_big (push, 3000, 'p');
        recv_big (pull, 3000, 'p');
    }
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    TEST_OK (zmq_bind (a, "inproc://fork"));
    TEST_OK (zmq_connect (b, "inproc://fork"));

    fflush (NULL);
    pid_t pid = fork ();
    TEST_ASSERT (pid >= 0);
    if (pid == 0) {
        /*  The child: a hang is a failure the parent sees.  */
        alarm (10);
        TEST_OK (zmq_close (push));
        TEST_OK (zmq_close (a));
        TEST_OK (zmq_close (b));
        TEST_OK (zmq_close (pull));
        TEST_FAIL (zmq_ctx_term (ctx), EINTR);
        TEST_FAIL (zmq_ctx_term (ctx), EINTR);

        void *own = zmq_ctx_new ();
        void *out = zmq_socket (own, ZMQ_PUSH);
        TEST_ASSERT (out);
        TEST_OK (zmq_connect (out, ep));
        TEST_ASSERT (zmq_send (out, "from child", 10, 0) == 10);
        send_big (out, 5000, 'c');
        void *x = zmq_socket (own, ZMQ_PAIR);
        void *y = zmq_socket (own, ZMQ_PAIR);
        TEST_OK (zmq_bind (x, "inproc://child"));
        TEST_OK (zmq_connect (y, "inproc://child"));
        for (int i = 0; i < 50; i++) {
            send_big (x, 3000, 'x');
            recv_big (y, 3000, 'x');
        }
        TEST_OK (zmq_close (x));
        TEST_OK (zmq_close (y));
        TEST_OK (zmq_close (out));
        TEST_OK (zmq_ctx_term (own));
        _exit (0);
    }

    recv_expect (pull, "from child");
    recv_big (pull, 5000, 'c');
    int status;
    TEST_ASSERT (waitpid (pid, &status, 0) == pid);
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
        fprintf (stderr, "child failed: status 0x%x\n", status);
        TEST_ASSERT (0);
    }

    /*  The parent's sockets, connections and I/O thread are untouched.  */
    TEST_ASSERT (zmq_send (push, "after", 5, 0) == 5);
    recv_expect (pull, "after");
    send_big (push, 3000, 'q');
    recv_big (pull, 3000, 'q');
    TEST_ASSERT (zmq_send (a, "pair", 4, 0) == 4);
    recv_expect (b, "pair");
    void *late = zmq_socket (ctx, ZMQ_PUSH);
    set_int (late, ZMQ_LINGER, 0);
    TEST_OK (zmq_connect (late, ep));
    TEST_ASSERT (zmq_send (late, "new", 3, 0) == 3);
    recv_expect (pull, "new");

    TEST_OK (zmq_close (late));
    TEST_OK (zmq_close (push));
    TEST_OK (zmq_close (a));
    TEST_OK (zmq_close (b));
    TEST_OK (zmq_close (pull));
    TEST_OK (zmq_ctx_term (ctx));
    return 0;
}
