/* ZMQ_LINGER must hold a message queued for a connection that is not up yet.
   Here nothing listens at all: with linger 250 ms libzmq's zmq_ctx_term waits 250 ms
   (and would deliver if the peer came up in time); it must not return at once. */
#include <zmq.h>
#include <stdio.h>
#include <time.h>
static double now_ms(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
int main(void) {
    int M, m, p; zmq_version(&M, &m, &p);
    void *ctx = zmq_ctx_new(), *push = zmq_socket(ctx, ZMQ_PUSH);
    int linger = 250; zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(push, "tcp://127.0.0.1:5593");      /* nothing listens here */
    zmq_send(push, "ping", 4, 0);                    /* queued: ZMQ_IMMEDIATE is 0 */
    double t = now_ms();
    zmq_close(push);
    zmq_ctx_term(ctx);
    double took = now_ms() - t;
    printf("%d.%d.%d: zmq_ctx_term took %.0f ms (linger 250)\n", M, m, p, took);
    return took >= 200 ? 0 : 1;
}
