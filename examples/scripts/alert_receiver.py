#!/usr/bin/env python3
"""A webhook receiver for the demo: appends every POSTed body (Alertmanager's payload, as
plinth serve --monitor sends alerts) as a line to FILE, answers 200. Prints its port.
usage: alert_receiver.py FILE"""
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(sys.argv[1], "ab") as f:
            f.write(body + b"\n")
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
