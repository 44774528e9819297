/*  Not a ferrozmq bug: evidence for expected-skips.txt's deselection of pyzmq's
    test_log.py::TestPubLog::test_blank_root_topic. The same steps in C: a SUB over tcp
    subscribes to "" and the PUB publishes at once (after an inproc bind and a second SUB), so
    whether the subscription arrives first is luck on any libzmq. Prints how many of N rounds
    (argv[1], default 20) lost the publication; exits 0 (both libraries lose most).  */
#include <zmq.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main (int argc, char **argv)
{
    int rounds = argc > 1 ? atoi (argv[1]) : 20, lost = 0;
    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    for (int i = 0; i < rounds; i++) {
        void *ctx = zmq_ctx_new ();
        void *pub = zmq_socket (ctx, ZMQ_PUB), *sub = zmq_socket (ctx, ZMQ_SUB);
        assert (zmq_bind (pub, "tcp://127.0.0.1:*") == 0);
        char ep[256]; size_t len = sizeof ep;
        assert (zmq_getsockopt (pub, ZMQ_LAST_ENDPOINT, ep, &len) == 0);
        assert (zmq_connect (sub, ep) == 0);
        assert (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "zmq", 3) == 0);
        usleep (100000);
        assert (zmq_setsockopt (sub, ZMQ_SUBSCRIBE, "", 0) == 0);
        assert (zmq_bind (pub, "inproc://zmqlog") == 0);
        void *sub2 = zmq_socket (ctx, ZMQ_SUB);
        assert (zmq_connect (sub2, "inproc://zmqlog") == 0);
        assert (zmq_setsockopt (sub2, ZMQ_SUBSCRIBE, "INFO", 4) == 0);
        assert (zmq_send (pub, "DEBUG", 5, ZMQ_SNDMORE) == 5);
        assert (zmq_send (pub, "debug_message", 13, 0) == 13);
        int t = 200;
        zmq_setsockopt (sub, ZMQ_RCVTIMEO, &t, sizeof t);
        char buf[64];
        if (zmq_recv (sub, buf, sizeof buf, 0) < 0)
            lost++;
        int zero = 0;
        zmq_setsockopt (pub, ZMQ_LINGER, &zero, sizeof zero);
        zmq_close (pub); zmq_close (sub); zmq_close (sub2);
        zmq_ctx_term (ctx);
    }
    printf ("libzmq %d.%d.%d: %d of %d publications lost\n", major, minor, patch, lost, rounds);
    return 0;
}
