/* zmq_proxy(s, s, NULL) with one REP socket as both frontend and backend: an echo server.
   libzmq forwards each request back as the reply. */
#include <zmq.h>
#include <stdio.h>
#include <pthread.h>
static void *ctx;
static void *run_proxy(void *rep) { int rc = zmq_proxy(rep, rep, NULL); printf("zmq_proxy returned %d errno=%s\n", rc, zmq_strerror(zmq_errno())); zmq_close(rep); return NULL; }
int main(void) {
    int M,m,p; zmq_version(&M,&m,&p);
    ctx = zmq_ctx_new();
    void *rep = zmq_socket(ctx, ZMQ_REP), *req = zmq_socket(ctx, ZMQ_REQ);
    zmq_bind(rep, "tcp://127.0.0.1:5591");
    zmq_connect(req, "tcp://127.0.0.1:5591");
    pthread_t t; pthread_create(&t, NULL, run_proxy, rep);
    int tmo = 2000, zero = 0; zmq_setsockopt(req, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
    zmq_setsockopt(req, ZMQ_LINGER, &zero, sizeof zero);
    zmq_send(req, "hello", 5, 0);
    char buf[16]; int n = zmq_recv(req, buf, sizeof buf, 0);
    printf("%d.%d.%d: echo through single-socket proxy -> %d\n", M,m,p, n);
    zmq_close(req);
    zmq_ctx_shutdown(ctx);   /* proxy must return ETERM */
    pthread_join(t, NULL);
    zmq_ctx_term(ctx);
    return n == 5 ? 0 : 1;
}
