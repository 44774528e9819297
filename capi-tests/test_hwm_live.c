/*  High-water marks as libzmq 4.3 counts and updates them.
    - inproc connect before bind: the connector queues exactly SNDHWM messages (its routing
      id introduction does not take a slot).
    - ZMQ_SNDHWM/ZMQ_RCVHWM set after connect/bind apply to the live pipes of the socket,
      raising or lowering how many more messages fit; on inproc the new value is added to
      the peer's HWM from connect time (libzmq's "HWM boost"), also for the peer's side of
      the pipe. A writer already stopped at its HWM stays stopped until the reader reads.
      A pipe whose attach the socket has not processed yet keeps its HWMs.  */
#include "refutil.h"

static void set_int (void *s, int option, int value)
{
    TEST_OK (zmq_setsockopt (s, option, &value, sizeof value));
}

/*  Processes pending commands (attaches pipes), as any call into the socket does.  */
static void sync_socket (void *s)
{
    int ev;
    size_t sz = sizeof ev;
    TEST_OK (zmq_getsockopt (s, ZMQ_EVENTS, &ev, &sz));
}

/*  Sends until the HWM stops us (at most `cap`); returns how many went.  */
static int fill (void *s, int cap)
{
    int n = 0;
    while (n < cap && zmq_send (s, "x", 1, ZMQ_DONTWAIT) == 1)
        n++;
    if (n < cap)
        TEST_ASSERT (errno == EAGAIN);
    return n;
}

static int drain (void *s)
{
    int n = 0;
    char buf[8];
    while (zmq_recv (s, buf, sizeof buf, ZMQ_DONTWAIT) >= 0)
        n++;
    TEST_ASSERT (errno == EAGAIN);
    return n;
}

static int seq;

static void connect_before_bind (void *ctx, int hwm)
{
    char ep[64];
    snprintf (ep, sizeof ep, "inproc://hwm-cbb-%d", seq++);
    void *push = zmq_socket (ctx, ZMQ_PUSH);
    set_int (push, ZMQ_LINGER, 0);
    set_int (push, ZMQ_SNDHWM, hwm);
    TEST_OK (zmq_connect (push, ep));
    int queued = fill (push, 100000);
    if (queued != hwm) {
        fprintf (stderr, "SNDHWM %d before bind: queued %d\n", hwm, queued);
        TEST_ASSERT (0);
    }
    void *pull = zmq_socket (ctx, ZMQ_PULL);
    set_int (pull, ZMQ_RCVHWM, hwm);
    TEST_OK (zmq_bind (pull, ep));
    TEST_ASSERT (fill (push, 100000) == 0);
    TEST_ASSERT (drain (pull) == hwm);
    TEST_OK (zmq_close (push));
    TEST_OK (zmq_close (pull));
}

/*  PAIR a (SNDHWM 10, RCVHWM 20) and b (30, 40) over inproc; after both attached, a's
    `option` becomes `value`. Returns how many fit a->b and b->a.  */
static void pair_case (void *ctx, int a_binds, int a_snd, int option, int value, int want_ab,
                       int want_ba)
{
    char ep[64];
    snprintf (ep, sizeof ep, "inproc://hwm-pair-%d", seq++);
    void *a = zmq_socket (ctx, ZMQ_PAIR);
    void *b = zmq_socket (ctx, ZMQ_PAIR);
    set_int (a, ZMQ_LINGER, 0);
    set_int (b, ZMQ_LINGER, 0);
    set_int (a, ZMQ_SNDHWM, a_snd);
    set_int (a, ZMQ_RCVHWM, 20);
    set_int (b, ZMQ_SNDHWM, 30);
    set_int (b, ZMQ_RCVHWM, 40);
    TEST_OK (zmq_bind (a_binds ? a : b, ep));
    TEST_OK (zmq_connect (a_binds ? b : a, ep));
    sync_socket (a);
    sync_socket (b);
    set_int (a, option, value);
    int ab = fill (a, 100000), ba = fill (b, 100000);
    if (ab != want_ab || ba != want_ba) {
        fprintf (stderr, "a %s, a SNDHWM %d, option %d -> %d: a->b %d b->a %d, want %d %d\n",
                 a_binds ? "binds" : "connects", a_snd, option, value, ab, ba, want_ab,
                 want_ba);
        TEST_ASSERT (0);
    }
    TEST_OK (zmq_close (a));
    TEST_OK (zmq_close (b));
}

int main (void)
{
    ref_setup (30);
    void *ctx = zmq_ctx_new ();

    connect_before_bind (ctx, 1);
    connect_before_bind (ctx, 5);
    connect_before_bind (ctx, 1000);

    /*  Unchanged: a->b 10+40, b->a 30+20.  */
    pair_case (ctx, 1, 10, ZMQ_LINGER, 0, 50, 50);
    /*  a's SNDHWM: a->b is the new value plus b's RCVHWM at connect time. b->a becomes
        a's RCVHWM plus its connect-time value (libzmq hands b's side a's HWMs, boosted
        by a's own), whichever side bound.  */
    pair_case (ctx, 1, 10, ZMQ_SNDHWM, 10, 50, 40);
    pair_case (ctx, 1, 10, ZMQ_SNDHWM, 5, 45, 40);
    pair_case (ctx, 0, 10, ZMQ_SNDHWM, 5, 45, 40);
    pair_case (ctx, 1, 10, ZMQ_SNDHWM, 100, 140, 40);
    pair_case (ctx, 1, 10, ZMQ_SNDHWM, 0, 100000, 40);
    /*  Unlimited at connect, limited later.  */
    pair_case (ctx, 1, 0, ZMQ_SNDHWM, 5, 45, 40);
    /*  a's RCVHWM: b->a is the new value plus a's RCVHWM at connect time.  */
    pair_case (ctx, 1, 10, ZMQ_RCVHWM, 7, 50, 27);
    pair_case (ctx, 0, 10, ZMQ_RCVHWM, 7, 50, 27);
    pair_case (ctx, 1, 10, ZMQ_RCVHWM, 0, 50, 100000);

    /*  A bound socket that has not processed the connection's attach yet: the new HWM
        does not reach that pipe.  */
    {
        void *push = zmq_socket (ctx, ZMQ_PUSH);
        void *pull = zmq_socket (ctx, ZMQ_PULL);
        set_int (push, ZMQ_LINGER, 0);
        set_int (pull, ZMQ_RCVHWM, 3);
        TEST_OK (zmq_bind (push, "inproc://hwm-lazy"));
        TEST_OK (zmq_connect (pull, "inproc://hwm-lazy"));
        set_int (push, ZMQ_SNDHWM, 5);
        TEST_ASSERT (fill (push, 100000) == 1003);
        TEST_OK (zmq_close (push));
        TEST_OK (zmq_close (pull));
    }

    /*  tcp: a connecting PUSH queues in its pipe while nobody listens.  */
    {
        void *push = zmq_socket (ctx, ZMQ_PUSH);
        set_int (push, ZMQ_LINGER, 0);
        set_int (push, ZMQ_SNDHWM, 10);
        TEST_OK (zmq_connect (push, "tcp://127.0.0.1:1"));
        set_int (push, ZMQ_SNDHWM, 4);
        TEST_ASSERT (fill (push, 1000) == 4);
        /*  Stopped at the HWM: raising it does not wake the writer.  */
        set_int (push, ZMQ_SNDHWM, 7);
        TEST_ASSERT (fill (push, 1000) == 0);
        TEST_OK (zmq_close (push));
    }
    {
        void *push = zmq_socket (ctx, ZMQ_PUSH);
        set_int (push, ZMQ_LINGER, 0);
        set_int (push, ZMQ_SNDHWM, 10);
        TEST_OK (zmq_connect (push, "tcp://127.0.0.1:1"));
        set_int (push, ZMQ_SNDHWM, 20);
        TEST_ASSERT (fill (push, 1000) == 20);
        /*  Lowered below what is queued: nothing more fits.  */
        set_int (push, ZMQ_SNDHWM, 5);
        TEST_ASSERT (fill (push, 1000) == 0);
        TEST_OK (zmq_close (push));
    }

    TEST_OK (zmq_ctx_term (ctx));
    return 0;
}
