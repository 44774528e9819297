# A PLAIN server must not talk to a client that does not authenticate.
import sys, zmq
ctx = zmq.Context()
server = ctx.socket(zmq.DEALER); server.plain_server = True
server.zap_domain = b'global'
client = ctx.socket(zmq.DEALER)          # NULL mechanism, no credentials
port = server.bind_to_random_port('tcp://127.0.0.1'); client.connect(f'tcp://127.0.0.1:{port}')
client.send(b'unauthenticated hello')
got1 = server.recv() if server.poll(1000) else None
print(zmq.zmq_version(), "server mechanism", server.mechanism, "-> server got:", got1)
# PLAIN client with wrong password against a PLAIN server that has a ZAP handler refusing everybody
zap = ctx.socket(zmq.REP); zap.bind('inproc://zeromq.zap.01')
c2 = ctx.socket(zmq.DEALER); c2.plain_username = b'u'; c2.plain_password = b'wrong'
c2.connect(f'tcp://127.0.0.1:{port}'); c2.send(b'bad password hello')
if zap.poll(1000):
    req = zap.recv_multipart(); zap.send_multipart([req[0], req[1], b'400', b'denied', b'', b''])
    print("  ZAP asked, mechanism", req[5] if len(req) > 5 else req)
else:
    print("  ZAP handler never asked")
got2 = server.recv() if server.poll(1000) else None
print("  server got from the refused PLAIN client:", got2)
for s in (server, client, zap, c2): s.close(0)
ctx.term()
sys.exit(0 if got1 is None and got2 is None else 1)
