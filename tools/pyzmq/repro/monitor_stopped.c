/* zmq_socket_monitor(s, NULL, 0) stops the monitor and, if the monitor asked for it,
   sends ZMQ_EVENT_MONITOR_STOPPED first (pyzmq's Socket.disable_monitor waits for it). */
#include <zmq.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
int main(void) {
    int M, m, p; zmq_version(&M, &m, &p);
    void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_PULL), *mon = zmq_socket(ctx, ZMQ_PAIR);
    zmq_socket_monitor(s, "inproc://mon", ZMQ_EVENT_ALL);
    zmq_connect(mon, "inproc://mon");
    int tmo = 1000, zero = 0; zmq_setsockopt(mon, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
    zmq_setsockopt(mon, ZMQ_LINGER, &zero, sizeof zero);
    zmq_socket_monitor(s, NULL, 0);
    uint8_t head[6]; uint16_t ev = 0;
    int n = zmq_recv(mon, head, sizeof head, 0);
    if (n == 6) memcpy(&ev, head, 2);
    printf("%d.%d.%d: after zmq_socket_monitor(s, NULL, 0): %s\n", M, m, p,
           n == 6 ? (ev == ZMQ_EVENT_MONITOR_STOPPED ? "ZMQ_EVENT_MONITOR_STOPPED" : "other event") : "nothing within 1 s");
    zmq_close(mon); zmq_close(s); zmq_ctx_term(ctx);
    return n == 6 && ev == ZMQ_EVENT_MONITOR_STOPPED ? 0 : 1;
}
