/* A ZMQ_PLAIN_SERVER socket must not accept a NULL-mechanism peer, and must ask the ZAP
   handler (inproc://zeromq.zap.01) about a PLAIN peer; a "400" reply refuses it. */
#include <zmq.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    int M, m, p; zmq_version(&M, &m, &p);
    void *ctx = zmq_ctx_new();
    void *zap = zmq_socket(ctx, ZMQ_REP); zmq_bind(zap, "inproc://zeromq.zap.01");
    void *server = zmq_socket(ctx, ZMQ_PULL);
    int one = 1, zero = 0, tmo = 1000;
    zmq_setsockopt(server, ZMQ_PLAIN_SERVER, &one, sizeof one);
    zmq_setsockopt(server, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
    zmq_bind(server, "tcp://127.0.0.1:5594");

    void *anon = zmq_socket(ctx, ZMQ_PUSH);                    /* NULL mechanism */
    zmq_setsockopt(anon, ZMQ_LINGER, &zero, sizeof zero);
    zmq_connect(anon, "tcp://127.0.0.1:5594");
    /* Without waiting: the server may refuse the handshake before this send, and then the
       session (in libzmq as here) ends with its pipe, which a blocking send would wait
       for forever. */
    zmq_send(anon, "anonymous", 9, ZMQ_DONTWAIT);
    char buf[32];
    int n1 = zmq_recv(server, buf, sizeof buf, 0);

    void *cli = zmq_socket(ctx, ZMQ_PUSH);                     /* PLAIN, refused by ZAP */
    zmq_setsockopt(cli, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(cli, ZMQ_PLAIN_USERNAME, "admin", 5);
    zmq_setsockopt(cli, ZMQ_PLAIN_PASSWORD, "wrong", 5);
    zmq_connect(cli, "tcp://127.0.0.1:5594");
    zmq_send(cli, "bad password", 12, ZMQ_DONTWAIT);
    zmq_pollitem_t it = { zap, 0, ZMQ_POLLIN, 0 };
    int asked = zmq_poll(&it, 1, 1000) == 1;
    if (asked) {                       /* read the request, echo its id, answer 400 */
        zmq_msg_t ver, id, part; int more = 1; size_t sz = sizeof more;
        zmq_msg_init(&ver); zmq_msg_init(&id); zmq_msg_init(&part);
        zmq_msg_recv(&ver, zap, 0); zmq_msg_recv(&id, zap, 0);
        while (zmq_getsockopt(zap, ZMQ_RCVMORE, &more, &sz), more) zmq_msg_recv(&part, zap, 0);
        zmq_send(zap, "1.0", 3, ZMQ_SNDMORE);
        zmq_send(zap, zmq_msg_data(&id), zmq_msg_size(&id), ZMQ_SNDMORE);
        zmq_send(zap, "400", 3, ZMQ_SNDMORE); zmq_send(zap, "denied", 6, ZMQ_SNDMORE);
        zmq_send(zap, "", 0, ZMQ_SNDMORE); zmq_send(zap, "", 0, 0);
        zmq_msg_close(&ver); zmq_msg_close(&id); zmq_msg_close(&part);
    }
    int n2 = zmq_recv(server, buf, sizeof buf, 0);
    printf("%d.%d.%d: NULL peer's message %s; ZAP handler %s; refused PLAIN peer's message %s\n", M, m, p,
           n1 >= 0 ? "ACCEPTED" : "refused", asked ? "asked" : "NEVER ASKED", n2 >= 0 ? "ACCEPTED" : "refused");
    zmq_close(anon); zmq_close(cli); zmq_close(server); zmq_close(zap); zmq_ctx_term(ctx);
    return (n1 < 0 && asked && n2 < 0) ? 0 : 1;
}
