/* zmq_has("ipc") must say 1 when ipc:// works. */
#include <zmq.h>
#include <stdio.h>
int main(void) {
    int M, m, p; zmq_version(&M, &m, &p);
    void *ctx = zmq_ctx_new(), *a = zmq_socket(ctx, ZMQ_PAIR), *b = zmq_socket(ctx, ZMQ_PAIR);
    int rc = zmq_bind(a, "ipc:///tmp/fz-has-ipc.sock");
    zmq_connect(b, "ipc:///tmp/fz-has-ipc.sock");
    zmq_send(b, "hi", 2, 0);
    char buf[4]; int n = rc == 0 ? zmq_recv(a, buf, sizeof buf, 0) : -1;
    printf("%d.%d.%d: ipc round trip %s, zmq_has(\"ipc\") = %d\n", M, m, p, n == 2 ? "works" : "fails", zmq_has("ipc"));
    zmq_close(a); zmq_close(b); zmq_ctx_term(ctx);
    return (n == 2) == (zmq_has("ipc") == 1) ? 0 : 1;
}
