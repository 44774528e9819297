# Not a reproducer: a pyzmq load check that passes on ferrozmq and libzmq alike (README "Results").
# Run: $WORK/venv/bin/python tools/pyzmq/load_check.py  (uses tcp ports 5601-5604).
# Real-client style load: asyncio (ZMQ_FD edge-triggered wakeups), tracked zero-copy sends,
# ROUTER/DEALER with many concurrent tasks, PUB/SUB over tcp. Each step is bounded.
import asyncio, time, zmq, zmq.asyncio, sys
N = 50_000
async def pushpull(ctx, ep):
    pull = ctx.socket(zmq.PULL); pull.bind(ep); push = ctx.socket(zmq.PUSH); push.connect(ep)
    async def prod():
        for i in range(N): await push.send(b'%d' % i)
    async def cons():
        for i in range(N):
            m = await pull.recv()
            assert int(m) == i, (m, i)
    t = time.monotonic(); await asyncio.wait_for(asyncio.gather(prod(), cons()), 60)
    push.close(); pull.close(); return time.monotonic() - t
async def routerdealer(ctx, ep, tasks=50, per=200):
    r = ctx.socket(zmq.ROUTER); r.bind(ep)
    async def server():
        for _ in range(tasks * per):
            ident, body = await r.recv_multipart(); await r.send_multipart([ident, body[::-1]])
    async def client(k):
        d = ctx.socket(zmq.DEALER); d.connect(ep)
        for i in range(per):
            msg = b'%d-%d' % (k, i); await d.send(msg); assert (await d.recv()) == msg[::-1]
        d.close()
    t = time.monotonic(); await asyncio.wait_for(asyncio.gather(server(), *[client(k) for k in range(tasks)]), 60)
    r.close(); return time.monotonic() - t
async def pubsub(ctx, ep):
    pub = ctx.socket(zmq.PUB); pub.bind(ep); sub = ctx.socket(zmq.SUB); sub.connect(ep); sub.subscribe(b'a')
    await asyncio.sleep(0.3)  # slow joiner
    async def prod():
        for i in range(N): await pub.send(b'b ignored'); await pub.send(b'a %d' % i)
    async def cons():
        for i in range(N): assert (await sub.recv()) == b'a %d' % i
    t = time.monotonic(); await asyncio.wait_for(asyncio.gather(prod(), cons()), 60)
    pub.close(); sub.close(); return time.monotonic() - t
def tracked(ctx, ep):
    a = ctx.socket(zmq.PAIR); a.bind(ep); b = ctx.socket(zmq.PAIR); b.connect(ep)
    big = b'x' * 1_000_000; t = time.monotonic(); trackers = []
    for i in range(200): trackers.append(a.send(big, copy=False, track=True))
    for i in range(200): assert len(b.recv(copy=False)) == len(big)
    for tr in trackers: tr.wait(10)
    a.close(); b.close(); return time.monotonic() - t
async def main():
    ctx = zmq.asyncio.Context()
    print(zmq.zmq_version(), "asyncio push/pull tcp %d msgs: %.2fs" % (N, await pushpull(ctx, 'tcp://127.0.0.1:5601')))
    print(zmq.zmq_version(), "asyncio push/pull ipc %d msgs: %.2fs" % (N, await pushpull(ctx, 'ipc:///tmp/fz-stress.ipc')))
    print(zmq.zmq_version(), "asyncio push/pull inproc %d msgs: %.2fs" % (N, await pushpull(ctx, 'inproc://s')))
    print(zmq.zmq_version(), "asyncio router/dealer 50 tasks x 200: %.2fs" % await routerdealer(ctx, 'tcp://127.0.0.1:5602'))
    print(zmq.zmq_version(), "asyncio pub/sub tcp %d (filtered): %.2fs" % (N, await pubsub(ctx, 'tcp://127.0.0.1:5603')))
    print(zmq.zmq_version(), "tracked zero-copy 200 x 1MB tcp: %.2fs" % tracked(zmq.Context.instance(), 'tcp://127.0.0.1:5604'))
    ctx.term()
asyncio.run(main())
