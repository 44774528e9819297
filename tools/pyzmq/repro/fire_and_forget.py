# The commonest script: connect, send one message, close, exit -- with the peer already listening.
# connect() is asynchronous, so the message is usually queued before the TCP/ZMTP handshake ends.
import zmq, subprocess, sys, time
N = 20
rctx = zmq.Context(); pull = rctx.socket(zmq.PULL); port = pull.bind_to_random_port('tcp://127.0.0.1')
child = f"""
import zmq
ctx = zmq.Context(); s = ctx.socket(zmq.PUSH); s.connect('tcp://127.0.0.1:{port}')
s.send(b'hello'); s.close(); ctx.term()
"""
for i in range(N): subprocess.run([sys.executable, '-c', child], check=True, timeout=20)
got = 0
while pull.poll(500): pull.recv(); got += 1
print(zmq.zmq_version(), f"fire-and-forget senders delivered {got} of {N}")
pull.close(); rctx.term()
sys.exit(0 if got == N else 1)
