/* connect + send + close + term: the message must reach a peer that is already listening.
   connect is asynchronous, so the message is queued before the handshake completes;
   the default ZMQ_LINGER (-1) must keep it until it is written. */
#include <zmq.h>
#include <stdio.h>
int main(void) {
    int M, m, p; zmq_version(&M, &m, &p);
    void *rctx = zmq_ctx_new(), *pull = zmq_socket(rctx, ZMQ_PULL);
    zmq_bind(pull, "tcp://127.0.0.1:5592");
    int tmo = 1000; zmq_setsockopt(pull, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
    int delivered = 0;
    for (int i = 0; i < 20; i++) {
        void *ctx = zmq_ctx_new(), *push = zmq_socket(ctx, ZMQ_PUSH);
        zmq_connect(push, "tcp://127.0.0.1:5592");
        zmq_send(push, "hello", 5, 0);
        zmq_close(push);
        zmq_ctx_term(ctx);            /* libzmq blocks here until "hello" is written */
        char buf[8];
        if (zmq_recv(pull, buf, sizeof buf, 0) == 5) delivered++;
    }
    printf("%d.%d.%d: delivered %d of 20\n", M, m, p, delivered);
    zmq_close(pull); zmq_ctx_term(rctx);
    return delivered == 20 ? 0 : 1;
}
