/*  The first program a new user runs: a request and a reply over inproc.  */
#include <zmq.h>
#include <stdio.h>
#include <string.h>

int main (void)
{
    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    printf ("ferrozmq speaking the libzmq %d.%d.%d API\n", major, minor, patch);

    void *ctx = zmq_ctx_new ();
    void *server = zmq_socket (ctx, ZMQ_REP);
    void *client = zmq_socket (ctx, ZMQ_REQ);
    if (!server || !client || zmq_bind (server, "inproc://hello") != 0
        || zmq_connect (client, "inproc://hello") != 0) {
        printf ("sockets: %s\n", zmq_strerror (zmq_errno ()));
        return 1;
    }
    char buf[16];
    zmq_send (client, "Hello", 5, 0);
    int n = zmq_recv (server, buf, sizeof buf, 0);
    printf ("server got: %.*s\n", n, buf);
    zmq_send (server, "World", 5, 0);
    n = zmq_recv (client, buf, sizeof buf, 0);
    printf ("client got: %.*s\n", n, buf);
    zmq_close (client);
    zmq_close (server);
    zmq_ctx_term (ctx);
    return n == 5 && memcmp (buf, "World", 5) == 0 ? 0 : 1;
}
