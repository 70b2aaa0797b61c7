#!/usr/bin/python3
"""HTTP(S) server for the net tests: binds an ephemeral port, prints it on stdout, serves until killed.

Routes (any method):
  /status/N      reply with status N and a JSON body {"status": N}
  /sleep/MS      reply 200 after MS milliseconds
  /echo          reply 200 with a JSON description of the request (method, path, headers, body)
  /no-length     reply 200 with a body delimited by the end of the connection, as Patroni does
"""
import argparse
import json
import socket
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def _reply(self, status, body, content_type="application/json", length=True):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _route(self):
        parts = self.path.strip("/").split("/")
        if parts[0] == "status":
            status = int(parts[1])
            self._reply(status, json.dumps({"status": status}))
        elif parts[0] == "sleep":
            time.sleep(int(parts[1]) / 1000)
            self._reply(200, "slept")
        elif parts[0] == "echo":
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            description = {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
            self._reply(200, json.dumps(description))
        elif parts[0] == "no-length":
            self._reply(200, "until the end", "text/plain", length=False)
        else:
            self._reply(404, "not found", "text/plain")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _route

    def log_message(self, format, *args):
        pass  # keep the test output clean


class Server(ThreadingHTTPServer):
    daemon_threads = True
    tls = None

    def finish_request(self, request, client_address):
        # http.server writes the headers and the body separately: with Nagle, over TLS, the body waits for
        # the client's delayed ACK (40 ms a reply). Patroni's API, built on it, has that delay; tests need not.
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return  # a refused client certificate, or a client that rejected ours
        super().finish_request(request, client_address)
        if self.tls:
            try:
                request.unwrap()  # send close_notify, as Patroni does
            except (ssl.SSLError, OSError):
                pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--cert", help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--key")
    parser.add_argument("--client-ca", help="require client certificates signed by this CA")
    args = parser.parse_args()

    Server.address_family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    server = Server((args.bind, 0), Handler)
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        if args.client_ca:
            context.load_verify_locations(args.client_ca)
            context.verify_mode = ssl.CERT_REQUIRED
        server.tls = context
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
