#!/usr/bin/python3
"""recorder.py — the lab's recording backend MTA (Debian's python3-aiosmtpd;
run it with /usr/bin/python3).

  recorder.py --listen ADDR:PORT --spool DIR [--proxy none|v1|v2|any] [--xclient]
              [--fail STAGE=CODE,...] [--drop STAGE] [--no-greet] [--no-pipelining]
              [--auth USER:PASSWORD] [--ready-file F] [--tls-cert F --tls-key F [--require-starttls]]

A stored message is DIR/<n>.eml, its content as the MTA stored it (dot-
stuffing undone, every other byte as received), and DIR/<n>.json (renamed
into place last): n, conn, mail_from, rcpt_tos, mail_options, rcpt_options,
helo (the EHLO/HELO name), told_via/client_addr/client_port (what PROXY or
XCLIENT told us), proxy, xclient, peer, size, sha256. Each connection's
bytes, exactly as they came off the socket, go to DIR/raw/<conn>.bin.

--proxy: every connection must open with a PROXY header of that version
(LOCAL/UNKNOWN too), else it is closed, as Postfix's smtpd_upstream_proxy_
protocol does. --xclient: offer and take Postfix XCLIENT (220 again after).
Faults: STAGE is ehlo (and HELO), mail, rcpt, data (the command), dot (end of
data), rset, noop or quit; for --drop also greet (at accept) and body (at
the first body byte, with a reset).
  --fail STAGE=CODE   answer CODE there instead (421 also closes)
  --drop STAGE        close there without answering (nothing is stored)
  --no-greet          accept TCP, keep reading, never send 220
  SIGUSR1             toggles "stop reading" on every connection
--auth USER:PASSWORD: offer AUTH PLAIN and LOGIN without TLS (the lab's
internal link is plaintext) and accept only that pair (authzid ignored,
RFC 4616); AUTH and SASL lines may be 12288 octets (RFC 4954 §4); the
stored message's JSON says auth_login (null when not authenticated); every
attempt is logged (event=auth).
Log lines (key=value) go to stderr. Body lines may be up to 1 MiB long.

STARTTLS (RFC 3207): --tls-cert/--tls-key offer it with that certificate;
--require-starttls refuses MAIL (530) until TLS is up, so nothing can
arrive in the clear. Each message's json then has tls: {version, cipher}
(null when it came in the clear); raw/<conn>.bin holds the decrypted bytes
after the handshake.
"""
import argparse
import asyncio
import hashlib
import json
import os
import re
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult

STAGES = {"ehlo": ("EHLO", "HELO"), "mail": ("MAIL",), "rcpt": ("RCPT",),
          "data": ("DATA",), "rset": ("RSET",), "noop": ("NOOP",), "quit": ("QUIT",)}
XCLIENT_ATTRS = ("ADDR", "PORT", "NAME", "HELO", "PROTO", "LOGIN", "DESTADDR", "DESTPORT")
opt = None
live = set()      # open connections (Recorder objects)
paused = False
counter = {"conn": 0, "msg": 0}


def log(event, **kv):
    print("recorder: event=%s %s" % (event, " ".join("%s=%s" % i for i in kv.items())),
          file=sys.stderr, flush=True)


def injected(code, stage):
    return "%s %s.0.0 recorder: injected at %s" % (code, code[0], stage)


def put(path, data):
    """Writes data to path atomically (a reader never sees half a file)."""
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.rename(path + ".tmp", path)


def xtext(v):
    return re.sub(r"\+([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), v)


def tls_kwargs():
    """aiosmtpd's STARTTLS arguments from --tls-cert/--tls-key."""
    if not opt.tls_cert:
        return {}
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(opt.tls_cert, opt.tls_key)
    return dict(tls_context=ctx, require_starttls=opt.require_starttls)


def tls_facts(session):
    """{version, cipher} of a session's TLS, or None in the clear."""
    extra = session.ssl
    if not extra or not extra.get("ssl_object"):
        return None
    so = extra["ssl_object"]
    return {"version": so.version(), "cipher": so.cipher()[0]}


class Handler:
    async def handle_PROXY(self, server, session, envelope, pd):
        ok = pd.valid and (opt.proxy == "any" or "v%d" % pd.version == opt.proxy)
        log("proxy", conn=server.conn, version=pd.version, src=pd.src_addr,
            port=pd.src_port, ok=ok, error=repr(pd.error))
        return ok

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        # like Postfix: PIPELINING and enhanced codes (aiosmtpd reads
        # pipelined commands in order anyway)
        session.host_name = hostname
        extra = (["250-PIPELINING"] * (not opt.no_pipelining) + ["250-ENHANCEDSTATUSCODES"]
                 + ["250-XCLIENT " + " ".join(XCLIENT_ATTRS)] * opt.xclient)
        return responses[:-1] + extra + responses[-1:]

    async def handle_MAIL(self, server, session, envelope, address, options):
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address, options):
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        if opt.drop == "dot":
            server.hangup("dot")
        if "dot" in opt.fail:
            return injected(opt.fail["dot"], "dot")
        counter["msg"] += 1
        n = counter["msg"]
        content = envelope.original_content
        pd, xc = session.proxy_data, server.xclient
        proxy = pd and {k: getattr(pd, k) and str(getattr(pd, k)) for k in
                        ("version", "src_addr", "src_port", "dst_addr", "dst_port")}
        told = (None, None, None)
        if pd:
            told = ("proxy-v%d" % pd.version, proxy["src_addr"], pd.src_port)
        if "ADDR" in xc or "PORT" in xc:  # XCLIENT comes after PROXY: it wins
            port = xc.get("PORT")
            told = ("xclient", xc.get("ADDR"), int(port) if port and port.isdigit() else port)
        side = dict(n=n, conn=server.conn, mail_from=envelope.mail_from,
                    rcpt_tos=envelope.rcpt_tos, mail_options=envelope.mail_options,
                    rcpt_options=envelope.rcpt_options, helo=session.host_name,
                    **dict(zip(("told_via", "client_addr", "client_port"), told)),
                    proxy=proxy, xclient=xc or None, peer=list(session.peer[:2]),
                    tls=tls_facts(session),
                    size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                    **auth_fields(session))
        put(os.path.join(opt.spool, "%d.eml" % n), content)
        put(os.path.join(opt.spool, "%d.json" % n), json.dumps(side, indent=1).encode())
        log("stored", n=n, conn=server.conn, size=len(content), rcpts=len(envelope.rcpt_tos))
        return "250 2.0.0 Ok: queued as %d" % n


# ---- --auth: AUTH PLAIN/LOGIN against one fixed user ----------------------

def auth_options():
    """SMTP() keyword arguments for --auth (none without it)."""
    if not opt.auth:
        return {}
    # aiosmtpd sets its deprecated login_data on success, with a warning
    warnings.filterwarnings("ignore", "Session.login_data is deprecated")
    return dict(authenticator=authenticate, auth_require_tls=False)


def authenticate(server, session, envelope, mechanism, data):
    user, _, password = opt.auth.partition(":")
    ok = data.login == user.encode() and data.password == password.encode()
    log("auth", conn=server.conn, mechanism=mechanism, login=data.login.decode("latin-1")[:64],
        login_len=len(data.login), password_len=len(data.password), ok=ok)
    return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


def auth_fields(session):
    """What a stored message's JSON says about AUTH (nothing without --auth)."""
    if not opt.auth:
        return {}
    data = session.auth_data if session.authenticated else None
    return dict(auth_login=data.login.decode("latin-1") if data else None)


class Recorder(SMTP):
    line_length_limit = 1 << 20  # real MTAs take long body lines

    def __init__(self, handler):
        super().__init__(handler, hostname="recorder.lab", ident="ESMTP recorder",
                         data_size_limit=128 << 20, enable_SMTPUTF8=True,
                         proxy_protocol_timeout=None if opt.proxy == "none" else 10,
                         **tls_kwargs(), **auth_options())
        if opt.auth:  # RFC 4954 §4: AUTH lines up to 12288 octets
            self.command_size_limits["AUTH"] = 12288
        counter["conn"] += 1
        self.conn = counter["conn"]
        self.raw = open(os.path.join(opt.spool, "raw", "%d.bin" % self.conn), "ab", buffering=0)
        self.held = []
        self.eof_held = False
        self.xclient = {}
        if not opt.xclient:
            del self._smtp_methods["XCLIENT"]
        for stage, verbs in STAGES.items():
            for verb in verbs:
                if stage in opt.fail or opt.drop == stage or (verb == "DATA" and opt.drop == "body"):
                    self._smtp_methods[verb] = self.inject(stage, self._smtp_methods[verb])

    def inject(self, stage, method):
        async def run(arg):
            if opt.drop == stage:
                self.hangup(stage)
            if stage in opt.fail:
                await self.push(injected(opt.fail[stage], stage))
                if opt.fail[stage] == "421":
                    self.hangup(stage)
                return
            if stage == "data" and opt.drop == "body" and self.envelope.rcpt_tos and not arg:
                await self.push("354 End data with <CR><LF>.<CR><LF>")
                await self._reader.read(1)
                self.hangup("body", reset=True)
            await method(arg)
        return run

    def hangup(self, stage, reset=False):
        """Closes (FIN, or RST with reset) and ends the session's task."""
        log("drop", conn=self.conn, stage=stage)
        self.transport.abort() if reset else self.transport.close()
        raise asyncio.CancelledError

    def connection_made(self, transport):
        if self._original_transport is not None:  # the TLS layer, after STARTTLS
            # RFC 3207 §4.2 resets the SMTP state (aiosmtpd makes a new
            # session); the PROXY header belongs to the connection: kept
            pd = self.session.proxy_data
            super().connection_made(transport)
            self.session.proxy_data = pd
            log("starttls", conn=self.conn, version=tls_facts(self.session))
            return
        super().connection_made(transport)
        live.add(self)
        peer = transport.get_extra_info("peername")
        log("connect", conn=self.conn, peer="%s:%s" % peer[:2])
        # after the transport's own call_soon(_add_reader), which ignores
        # a pause made from here
        self.loop.call_soon(self.pause)

    def pause(self):
        if paused and self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()

    def connection_lost(self, exc):
        live.discard(self)
        self.raw.close()
        log("close", conn=self.conn)
        super().connection_lost(exc)

    def data_received(self, data):
        self.raw.write(data)
        if paused or self.held:
            self.held.append(data)
            self.transport.pause_reading()
            return
        super().data_received(data)

    def eof_received(self):
        if self.held:  # after what was held back, on resume
            self.eof_held = True
            return True
        return super().eof_received()

    def resume(self):
        data, self.held = b"".join(self.held), []
        if self.transport is None or self.transport.is_closing():
            return
        if data:
            super().data_received(data)
        if self.eof_held:
            self.eof_held = False
            if not super().eof_received():
                self.transport.close()
            return
        self.transport.resume_reading()

    async def _handle_client(self):
        if opt.drop == "greet":
            self.hangup("greet")
        if opt.no_greet:
            await asyncio.Event().wait()  # until the connection is lost
        await super()._handle_client()

    async def smtp_XCLIENT(self, arg):
        if self.envelope.mail_from:
            return await self.push("503 5.5.1 Error: MAIL transaction in progress")
        attrs = {}
        for item in (arg or "").split():
            k, eq, v = item.partition("=")
            if not eq or k.upper() not in XCLIENT_ATTRS:
                return await self.push("501 5.5.4 Bad XCLIENT attribute: %s" % item)
            attrs[k.upper()] = xtext(v)
        if not attrs:
            return await self.push("501 5.5.4 Syntax: XCLIENT attribute=value...")
        self.xclient.update(attrs)
        log("xclient", conn=self.conn, **attrs)
        self._set_rset_state()
        self.session.host_name = None
        self.session.extended_smtp = False
        await self.push("220 %s ESMTP recorder" % self.hostname)


def toggle_pause():
    global paused
    paused = not paused
    log("paused" if paused else "resumed", connections=len(live))
    for r in list(live):
        try:
            r.pause() if paused else r.resume()
        except Exception as e:  # noqa: BLE001 - one connection must not stop the others
            log("pause_error", conn=r.conn, error=repr(e))


def parse_fail(s):
    fail = {}
    for item in filter(None, (s or "").split(",")):
        stage, _, code = item.partition("=")
        if stage not in STAGES and stage != "dot" or not re.fullmatch(r"[45]\d\d", code):
            sys.exit("recorder: --fail: want STAGE=4xx|5xx, not %r" % item)
        fail[stage] = code
    return fail


async def main():
    global opt
    ap = argparse.ArgumentParser(description="recording backend MTA")
    ap.add_argument("--listen", required=True, help="ADDR:PORT")
    ap.add_argument("--spool", required=True)
    ap.add_argument("--proxy", choices=("none", "v1", "v2", "any"), default="none")
    ap.add_argument("--xclient", action="store_true")
    ap.add_argument("--fail", type=parse_fail, default={})
    ap.add_argument("--drop", choices=sorted(STAGES) + ["dot", "greet", "body"])
    ap.add_argument("--no-greet", action="store_true")
    ap.add_argument("--no-pipelining", action="store_true", help="do not offer PIPELINING")
    ap.add_argument("--auth", metavar="USER:PASSWORD", help="offer AUTH PLAIN LOGIN for this user")
    ap.add_argument("--ready-file")
    ap.add_argument("--tls-cert", help="offer STARTTLS with this PEM certificate (chain)")
    ap.add_argument("--tls-key", help="its PEM key")
    ap.add_argument("--require-starttls", action="store_true", help="530 to MAIL before TLS")
    opt = ap.parse_args()
    if bool(opt.tls_cert) != bool(opt.tls_key) or (opt.require_starttls and not opt.tls_cert):
        sys.exit("recorder: --tls-cert and --tls-key go together; --require-starttls needs them")
    host, _, port = opt.listen.rpartition(":")
    os.makedirs(os.path.join(opt.spool, "raw"), exist_ok=True)
    # numbers go on after what an earlier run left in the spool
    for key, sub, ext in (("msg", "", ".json"), ("conn", "raw", ".bin")):
        names = os.listdir(os.path.join(opt.spool, sub))
        counter[key] = max([int(f[:-len(ext)]) for f in names
                            if f.endswith(ext) and f[:-len(ext)].isdigit()] + [0])
    loop = asyncio.get_running_loop()
    handler = Handler()
    server = await loop.create_server(lambda: Recorder(handler), host, int(port))
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR1, toggle_pause)
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    log("listening", addr=opt.listen, proxy=opt.proxy, xclient=opt.xclient, drop=opt.drop,
        fail=",".join("%s=%s" % i for i in opt.fail.items()) or "-", no_greet=opt.no_greet,
        pid=os.getpid())
    if opt.ready_file:
        put(opt.ready_file, ("%s\n" % opt.listen).encode())
    await stop.wait()
    server.close()
    for r in list(live):
        r.transport.abort()
    log("exit")


if __name__ == "__main__":
    asyncio.run(main())
