/* Reference vectors for curve_tests.rs: the CurveZMQ boxes computed by libsodium (as
 * libzmq computes them) from fixed keys and nonces. Build and run:
 *   cc -o kat src/zmtp/curve_kat.c -lsodium -l:libzmq.so.5 && ./kat
 * Keys: the example pairs of libzmq's zmq_curve(7) page; short-term secrets are fixed
 * octet ramps. One "name hex" line per vector. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

static void hex(const char *name, const unsigned char *b, size_t n)
{
    printf("%s ", name);
    for (size_t i = 0; i < n; i++)
        printf("%02x", b[i]);
    printf("\n");
}

static void nonce(unsigned char *n, const char *prefix, size_t plen, unsigned long long v)
{
    memcpy(n, prefix, plen);
    for (int i = 0; i < 8; i++)
        n[plen + i] = (unsigned char)(v >> (56 - 8 * i));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    unsigned char client_pub[32], client_sec[32], server_pub[32], server_sec[32];
    zmq_z85_decode(client_pub, "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID");
    zmq_z85_decode(client_sec, "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs");
    zmq_z85_decode(server_pub, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
    zmq_z85_decode(server_sec, "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6");
    unsigned char cn_sec[32], cn_pub[32], sn_sec[32], sn_pub[32];
    for (int i = 0; i < 32; i++) {
        cn_sec[i] = (unsigned char)(i + 1);
        sn_sec[i] = (unsigned char)(i + 33);
    }
    crypto_scalarmult_base(cn_pub, cn_sec);
    crypto_scalarmult_base(sn_pub, sn_sec);
    unsigned char derived[32];
    crypto_scalarmult_base(derived, client_sec);
    hex("client_public", derived, 32);
    hex("cn_public", cn_pub, 32);
    hex("sn_public", sn_pub, 32);

    /* HELLO's signature box: 64 zeros, C' to S, nonce 1. */
    unsigned char n[24], zeros[64] = {0}, out[256];
    nonce(n, "CurveZMQHELLO---", 16, 1);
    if (crypto_box_easy(out, zeros, 64, n, server_pub, cn_sec) != 0)
        return 1;
    hex("hello_box", out, 80);

    /* A MESSAGE from client to server: flags 1 (more), "hello", nonce 3, C' <-> S'. */
    unsigned char k[32];
    if (crypto_box_beforenm(k, sn_pub, cn_sec) != 0)
        return 1;
    nonce(n, "CurveZMQMESSAGEC", 16, 3);
    const unsigned char msg[] = "\x01hello";
    crypto_box_easy_afternm(out, msg, 6, n, k);
    hex("message_box", out, 16 + 6);

    /* READY from the server: empty metadata, nonce 1, S' <-> C'. */
    if (crypto_box_beforenm(k, cn_pub, sn_sec) != 0)
        return 1;
    nonce(n, "CurveZMQREADY---", 16, 1);
    crypto_box_easy_afternm(out, (const unsigned char *)"", 0, n, k);
    hex("ready_box", out, 16);

    /* A cookie: secretbox of 64 octets 0..63, key 32 x 0x42, nonce COOKIE-- 16 x 0xaa. */
    unsigned char key[32], plain[64];
    memset(key, 0x42, 32);
    for (int i = 0; i < 64; i++)
        plain[i] = (unsigned char)i;
    memcpy(n, "COOKIE--", 8);
    memset(n + 8, 0xaa, 16);
    crypto_secretbox_easy(out, plain, 64, n, key);
    hex("cookie_box", out, 80);

    /* An all-zero public key (low order): libsodium refuses the exchange. */
    unsigned char zero_pub[32] = {0};
    printf("low_order_rc %d\n", crypto_box_beforenm(k, zero_pub, cn_sec));
    return 0;
}
