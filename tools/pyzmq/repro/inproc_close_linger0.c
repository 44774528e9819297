/* A message already sent on inproc stays readable after the sender closes with ZMQ_LINGER=0
   (this is how libzmq delivers ZMQ_EVENT_MONITOR_STOPPED: the monitor socket has linger 0). */
#include <zmq.h>
#include <stdio.h>
int main(void) {
    void *ctx = zmq_ctx_new();
    void *a = zmq_socket(ctx, ZMQ_PAIR), *b = zmq_socket(ctx, ZMQ_PAIR);
    int zero = 0, tmo = 1000;
    zmq_setsockopt(a, ZMQ_LINGER, &zero, sizeof zero);
    zmq_bind(a, "inproc://x");
    zmq_connect(b, "inproc://x");
    zmq_send(a, "bye", 3, 0);
    zmq_close(a);
    zmq_setsockopt(b, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
    char buf[8];
    int n = zmq_recv(b, buf, sizeof buf, 0);
    int M, m, p; zmq_version(&M, &m, &p);
    printf("%d.%d.%d: recv after sender closed (linger 0) -> %d%s\n", M, m, p, n, n < 0 ? " (message lost)" : "");
    zmq_close(b);
    zmq_ctx_term(ctx);
    return n == 3 ? 0 : 1;
}
