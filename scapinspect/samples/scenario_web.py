"""curl_http.scap (a test script running curl against a local API server) and web_502.scap (nginx in front
of a backend that is down, then restarted)."""
from __future__ import annotations

from . import machines as mc
from . import programs as pg
from .kernel import Kernel
from .sim import (
    GENERIC,
    MS,
    O_APPEND,
    O_CREAT,
    O_RDONLY,
    O_RDWR,
    O_TRUNC,
    O_WRONLY,
    Gen,
    Proc,
    loopback_interfaces,
    run_all,
    tty_nr,
)

T_CURL = 1710411302_250000000    # 2024-03-14 10:15:02 UTC
T_502 = 1710410531_400000000     # 2024-03-14 10:02:11 UTC
API = ("127.0.0.1", 8080)
HOST = "api.dev.internal"
PY_SERVER = "BaseHTTP/0.6 Python/3.11.6"

INDEX = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dev api</title></head>
<body><h1>dev api</h1><p>Endpoints: <code>/api/items</code>, <code>/events/stream</code>,
<code>/download/report.csv</code></p></body></html>
"""
NOT_FOUND = (b'<!DOCTYPE HTML>\n<html lang="en">\n    <head>\n        <meta charset="utf-8">\n'
             b'        <title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n'
             b'        <p>Error code: 404</p>\n        <p>Message: File not found.</p>\n    </body>\n</html>\n')


def _report_csv() -> bytes:
    rows = [b"date,sku,region,units,revenue"]
    for i in range(4500):
        rows.append(f"2024-03-{1 + i % 14:02d},SKU-{1000 + i % 97},{('eu', 'us', 'apac')[i % 3]},"
                    f"{(i * 7) % 50 + 1},{((i * 7919) % 100000) / 100:.2f}".encode())
    return b"\n".join(rows) + b"\n"


def _route(method: str, path: str, req: bytes, date: str) -> tuple[int, list[bytes]]:
    """The API server's answer: status and the pieces it sends (one sendto each)."""
    def resp(code: str, body: bytes, ctype: str = "application/json") -> list[bytes]:
        return [pg.http_response(code, body, ctype=ctype, server=PY_SERVER, date=date)]
    if method == "POST" and path == "/api/items":
        body = req.split(b"\r\n\r\n", 1)[1]
        return 201, resp("201 Created", b'{"id": 42, ' + body.strip()[1:] + b"\n")
    if path == "/":
        return 200, resp("200 OK", INDEX, "text/html; charset=utf-8")
    if path == "/api/items/42":
        return 200, resp("200 OK", b'{"id": 42, "name": "widget", "qty": 3}\n')
    if path == "/api/items/42/stock":
        return 200, resp("200 OK", b'{"id": 42, "in_stock": 17, "warehouse": "fra-1"}\n')
    if path == "/events/stream":
        head = (f"HTTP/1.1 200 OK\r\nServer: {PY_SERVER}\r\nContent-Type: application/x-ndjson\r\n"
                "Transfer-Encoding: chunked\r\n\r\n").encode()
        events = [b'{"event": "build", "status": "queued"}\n', b'{"event": "build", "status": "running"}\n',
                  b'{"event": "build", "status": "passed", "duration_ms": 48211}\n']
        return 200, [head] + [f"{len(e):x}\r\n".encode() + e + b"\r\n" for e in events] + [b"0\r\n\r\n"]
    if path == "/download/report.csv":
        return 200, resp("200 OK", _report_csv(), "text/csv")
    return 404, resp("404 Not Found", NOT_FOUND, "text/html;charset=utf-8")


def api_server(k: Kernel, p: Proc, lfd: int, log: int) -> Gen:
    """python3 server.py: one connection at a time, HTTP/1.1 keep-alive, a log line per request."""
    while True:
        cfd = yield from k.accept(p, lfd)
        while True:
            req = yield from k.recv(p, cfd, 65536)
            if not req:
                break
            method, path, _ = req.split(b"\r\n", 1)[0].decode().split(" ")
            status, pieces = _route(method, path, req, k.now("%a, %d %b %Y %H:%M:%S GMT"))
            for i, piece in enumerate(pieces):
                if i:
                    yield k.rng.randint(150, 700) * MS      # a streaming response
                yield from k.send(p, cfd, piece)
            line = f'127.0.0.1 - - [{k.now("%d/%b/%Y %H:%M:%S")}] "{method} {path} HTTP/1.1" {status} -\n'
            yield from k.write(p, log, line.encode())
        yield from k.close(p, cfd)


def _curl(urls: list[str], *, method: str = "GET", data: bytes = b"", out_path: str | None = None) -> pg.Body:
    """curl: resolve the host once, one keep-alive connection for all ``urls``, body to stdout or a file."""
    def body(k: Kernel, p: Proc) -> Gen:
        yield from pg.threaded_resolve(k, p, HOST)
        sink = 1
        if out_path:
            sink = yield from k.open(p, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0o666)
        fd = None
        for url in urls:
            path = url.split(f"{HOST}:8080", 1)[1]
            fd = yield from pg.http_get(k, p, f"{HOST}:8080", API, path, fd=fd, method=method, body=data,
                                        ctype="application/json", sink=sink)
        yield from k.close(p, fd)
        if out_path:
            yield from k.close(p, sink)
    return body


def _smoke(k: Kernel, sh: Proc, script: Proc) -> Gen:
    base = f"http://{HOST}:8080"
    runs = [
        (["curl", "-s", f"{base}/"], _curl([f"{base}/"])),
        (["curl", "-s", f"{base}/missing"], _curl([f"{base}/missing"])),
        (["curl", "-s", "-X", "POST", "-H", "Content-Type: application/json", "-d", '{"name":"widget","qty":3}',
          f"{base}/api/items"], _curl([f"{base}/api/items"], method="POST", data=b'{"name":"widget","qty":3}')),
        (["curl", "-s", f"{base}/api/items/42", f"{base}/api/items/42/stock"],
         _curl([f"{base}/api/items/42", f"{base}/api/items/42/stock"])),
        (["curl", "-s", "-N", f"{base}/events/stream"], _curl([f"{base}/events/stream"])),
        (["curl", "-s", "-o", "/tmp/report.csv", f"{base}/download/report.csv"],
         _curl([f"{base}/download/report.csv"], out_path="/tmp/report.csv")),
    ]
    for argv, body in runs:
        yield k.rng.randint(120, 400) * MS
        yield from pg.run(k, script, "/usr/bin/curl", argv, body, libs=("libcurl.so.4", "libc.so.6"))
    yield from k.exit(script, 0)
    yield 2 * MS
    k.emit(sh, 1, ID=GENERIC["wait4"][0])      # bash sat in wait4 since before the capture began
    k.emit(sh, "signaldeliver", spid=script.pid, dpid=sh.pid, sig=17)
    yield from k.write(sh, 2, b"\x1b]0;dev@buildbox: ~/api\x07dev@buildbox:~/api$ ")


def curl_http(*, seed: int = 2, snaplen: int = 80) -> Kernel:
    """A test script (bash smoke.sh on /dev/pts/0) runs six curls against the local API server on
    127.0.0.1:8080, each resolving api.dev.internal through systemd-resolved first: 200, 404, a JSON POST,
    two requests on one keep-alive connection, a chunked stream and a 150 kB download cut at the snaplen."""
    k = Kernel(seed=seed, start=T_CURL, hostname="buildbox", snaplen=snaplen, first_pid=7400)
    k.interfaces = loopback_interfaces(("eth0", "10.0.3.17", "255.255.255.0"))
    b = mc.base_system(k, users=((1000, "dev"),))
    k.add_user(998, "api", "/srv/api", "/usr/sbin/nologin")
    mc.start_resolved(k, b, {HOST: "127.0.0.1"})
    srv = k.add_proc(1530, 1, "python3", "/usr/bin/python3.11", ["/srv/api/server.py", "--port", "8080"],
                     exe="/usr/bin/python3", cwd="/srv/api", uid=998, gid=998, cgroups=mc.cgroups("dev-api.service"))
    mc.devnull(k, srv, (0, 1))
    k.fd_file(srv, 2, "/var/log/dev-api/access.log", O_WRONLY | O_APPEND)
    k.fd_listen(srv, 3, API)
    k.ends[(srv.pid, 3)] = pg.End(None, None, API)
    k.listeners[API] = pg.Listener(API, 5)
    home = "/home/dev"
    env = pg.user_env("dev", home, tty="/dev/pts/0", ssh="10.0.3.1 50122")
    cg = mc.user_cgroups(1000, 7)
    sh = k.add_proc(7111, 7100, "bash", "/usr/bin/bash", [], exe="-bash", cwd=home + "/api", uid=1000, gid=1000,
                    loginuid=1000, tty=tty_nr(0), env=env, cgroups=cg)
    script = k.add_proc(7302, 7111, "smoke.sh", "/usr/bin/bash", ["./smoke.sh"], exe="bash", cwd=home + "/api",
                        uid=1000, gid=1000, loginuid=1000, tty=tty_nr(0), env=env, cgroups=cg, pgid=7302, sid=7111)
    for p in (sh, script):
        for fd in (0, 1, 2):
            k.fd_file(p, fd, "/dev/pts/0", O_RDWR)
    k.fd_file(script, 255, home + "/api/smoke.sh", O_RDONLY)
    k.spawn(api_server(k, srv, 3, 2), daemon=True)
    run_all(k, [_smoke(k, sh, script)])
    return k


# -- web_502 ------------------------------------------------------------------------------------------------
ERROR_PAGE = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway"
              b"</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n")
BACKEND = ("127.0.0.1", 5000)
SHOP = ("10.0.1.20", 80)
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0"


def _browser_request(path: str) -> bytes:
    return (f"GET {path} HTTP/1.1\r\nHost: shop.example.com\r\nUser-Agent: {UA}\r\nAccept: */*\r\n"
            "Connection: keep-alive\r\n\r\n").encode()


def nginx_worker(k: Kernel, w: Proc) -> Gen:
    """An nginx worker: accept, read the request, proxy it to the backend (or answer 502), log it."""
    lst = k.listeners[("0.0.0.0", 80)]
    conn = 17
    while True:
        yield from k.block(w, "epoll_wait", dict(maxevents=512), dict(res=1), lambda: bool(lst.queue))
        cfd = yield from k.accept(w, 6, block=False)
        client = k.end(w, cfd).remote
        while True:
            rx = k.end(w, cfd).rx
            yield from k.block(w, "epoll_wait", dict(maxevents=512), dict(res=1), rx.ready)
            req = yield from k.recv(w, cfd, 1024)
            if not req:
                break
            line = req.split(b"\r\n", 1)[0].decode()
            path = line.split(" ")[1]
            reply = yield from _proxy(k, w, req, path, line, client, conn)
            yield from k.send(w, cfd, reply, name="writev")
            status = reply.split(b" ", 2)[1].decode()
            size = len(reply.split(b"\r\n\r\n", 1)[1])
            yield from k.write(w, 4, f'{client[0]} - - [{k.now()} +0000] "{line}" {status} {size} "-" "{UA}"\n'.encode())
        yield from k.close(w, cfd)
        conn += 1


def _proxy(k: Kernel, w: Proc, req: bytes, path: str, line: str, client, conn: int) -> Gen:
    s = yield from k.socket(w, 2, 1, 0)
    yield from k.simple(w, "ioctl", dict(fd=s, request=0x5421, argument=0x7FFC1D2E3A4C), dict(res=0))
    res = yield from k.connect(w, s, BACKEND, nonblock=True)
    if res == -111:
        yield from k.close(w, s)
        err = (f"{k.now('%Y/%m/%d %H:%M:%S')} [error] {w.pid}#{w.pid}: *{conn} connect() "
               f"failed (111: Connection refused) while connecting to upstream, client: {client[0]}, server: "
               f'shop.example.com, request: "{line}", upstream: "http://127.0.0.1:5000{path}", host: '
               '"shop.example.com"\n')
        yield from k.write(w, 5, err.encode())
        return pg.http_response("502 Bad Gateway", ERROR_PAGE, extra="Connection: keep-alive\r\n",
                                date=k.now("%a, %d %b %Y %H:%M:%S GMT"))
    e = k.end(w, s)
    yield from k.block(w, "epoll_wait", dict(maxevents=512), dict(res=1), lambda: True)
    upstream = req.replace(b"HTTP/1.1", b"HTTP/1.0", 1).replace(b"Connection: keep-alive", b"Connection: close")
    yield from k.send(w, s, upstream, name="writev")
    yield from k.block(w, "epoll_wait", dict(maxevents=512), dict(res=1), lambda: e.rx.closed)
    resp = b""
    while True:
        chunk = yield from k.recv(w, s, 4096)
        if not chunk:
            break
        resp += chunk
    yield from k.close(w, s)
    return resp.replace(b"HTTP/1.0", b"HTTP/1.1", 1)


def gunicorn(k: Kernel, init: Proc) -> Gen:
    """systemd restarts the backend: fork, exec gunicorn, bind 127.0.0.1:5000, then serve."""
    def service(c: Proc) -> Gen:
        c.uid = c.gid = 33
        c.cgroups = mc.cgroups("shop.service")
        yield from k.execve(c, "/srv/shop/venv/bin/python3",
                            ["/srv/shop/venv/bin/python3", "/srv/shop/venv/bin/gunicorn", "-b", "127.0.0.1:5000",
                             "shop.wsgi"], env=["PATH=/srv/shop/venv/bin:/usr/bin", "LANG=C.UTF-8"],
                            libs=("libpython3.11.so.1.0", "libc.so.6"))
        yield from pg.read_file(k, c, "/srv/shop/shop/settings.py", b"DEBUG = False\nALLOWED_HOSTS = ['shop.example.com']\n")
        lfd = yield from k.socket(c, 2, 1 | 0o2000000, 6)
        yield from k.bind_listen(c, lfd, BACKEND, 2048)
        while True:
            cfd = yield from k.accept(c, lfd)
            yield from k.recv(c, cfd, 8192)
            page = b"<!doctype html><html><head><title>Shop</title></head><body><h1>Spring sale</h1></body></html>\n"
            yield from k.send(c, cfd, pg.http_response("200 OK", page, server="gunicorn",
                                                         extra="Connection: close\r\n",
                                                         date=k.now("%a, %d %b %Y %H:%M:%S GMT")))
            yield from k.close(c, cfd)
    yield 3000 * MS
    yield from k.fork(init, service)


def web_502(*, seed: int = 3, snaplen: int = 80) -> Kernel:
    """nginx on :80 proxies to 127.0.0.1:5000, where nothing listens: connect() gets ECONNREFUSED and the
    worker answers 502 (a browser asks for / and /favicon.ico on one connection, a second client for
    /api/cart and /checkout). systemd then restarts the backend and the next request is proxied and answered 200."""
    k = Kernel(seed=seed, start=T_502, hostname="shop-web-01", snaplen=snaplen, first_pid=23800)
    k.interfaces = loopback_interfaces(("eth0", "10.0.1.20", "255.255.255.0"))
    b = mc.base_system(k, users=((1000, "ops"),))
    procs = mc.nginx(k, master=1100, workers=(1101, 1102))
    for p in procs:
        k.ends[(p.pid, 6)] = pg.End(None, None, ("0.0.0.0", 80))
    k.listeners[("0.0.0.0", 80)] = pg.Listener(("0.0.0.0", 80), 511)
    k.spawn(nginx_worker(k, procs[1]), daemon=True)
    k.spawn(mc.idle(k, procs[2]), daemon=True)
    k.spawn(gunicorn(k, b.init), daemon=True)
    a, c = ("198.51.100.23", 51514), ("203.0.113.45", 40022)
    clients = [
        _later(k, 300 * MS, pg.remote_client(k, SHOP, a, [_browser_request("/"), _browser_request("/favicon.ico")],
                                             via=("0.0.0.0", 80))),
        _later(k, 1500 * MS, pg.remote_client(k, SHOP, c, [_browser_request("/api/cart"),
                                                           _browser_request("/checkout")], via=("0.0.0.0", 80))),
        _later(k, 4200 * MS, pg.remote_client(k, SHOP, (a[0], 51530), [_browser_request("/")], via=("0.0.0.0", 80),
                                              linger=300 * MS)),
    ]
    run_all(k, clients)
    return k


def _later(k: Kernel, delay: int, gen: Gen) -> Gen:
    yield delay
    yield from gen

