#!/usr/bin/python3
"""conc.py ADDR N — N SMTP sessions open at the same moment.

Every session connects and reads its 220; only when all N hold their
greeting at once (so the concurrency is real, not a sequence) does each send
QUIT and expect 221 and the server's close. Prints one key=value line and
exits 0 when all N sessions got 220, then 221, then EOF.
"""
import asyncio
import os
import resource
import sys
import time

ADDR, N = sys.argv[1], int(sys.argv[2])
PORT = 25
# seconds per step (connect, each reply); lossy lab variants raise it
T = float(os.environ.get("BULWARK_CONC_TIMEOUT", "30"))


async def session(i, st, all_greeted):
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(ADDR, PORT), T)
    except Exception as e:  # noqa: BLE001 (any failure counts)
        st["errors"].append("connect %d: %r" % (i, e))
        return
    port = w.get_extra_info("sockname")[1]
    st["open"] += 1
    st["max_open"] = max(st["max_open"], st["open"])
    try:
        line = await asyncio.wait_for(r.readline(), T)
        if not line.startswith(b"220 "):
            st["errors"].append("greeting %d: %r" % (i, line))
            return
        st["g220"] += 1
        if st["g220"] == N:
            st["t_all"] = time.monotonic()
            all_greeted.set()
        await asyncio.wait_for(all_greeted.wait(), 2 * T)
        w.write(b"QUIT\r\n")
        await w.drain()
        line = await asyncio.wait_for(r.readline(), T)
        if not line.startswith(b"221 "):
            st["errors"].append("quit %d: %r" % (i, line))
            return
        st["g221"] += 1
        rest = await asyncio.wait_for(r.read(), T)
        if rest == b"":
            st["eof"] += 1
        else:
            st["errors"].append("after 221 %d: %r" % (i, rest))
    except Exception as e:  # noqa: BLE001
        st["errors"].append("session %d (client port %d): %r" % (i, port, e))
    finally:
        st["open"] -= 1
        w.close()


async def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, N + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    st = {"open": 0, "max_open": 0, "g220": 0, "g221": 0, "eof": 0, "errors": [], "t_all": 0}
    all_greeted = asyncio.Event()
    t0 = time.monotonic()
    await asyncio.gather(*(session(i, st, all_greeted) for i in range(N)))
    t1 = time.monotonic()
    greet_s = (st["t_all"] - t0) if st["t_all"] else float("nan")
    print("sessions=%d got_220=%d got_221=%d closed=%d max_open=%d elapsed_s=%.2f "
          "all_greeted_s=%.2f sessions_per_s=%.0f errors=%d"
          % (N, st["g220"], st["g221"], st["eof"], st["max_open"], t1 - t0, greet_s,
             N / (t1 - t0), len(st["errors"])))
    for e in st["errors"][:10]:
        print("error:", e)
    ok = st["g220"] == N and st["g221"] == N and st["eof"] == N and st["max_open"] == N
    sys.exit(0 if ok else 1)


asyncio.run(main())
