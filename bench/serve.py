"""A fast loopback HTTP server for the fetch benchmark: sendfile() bodies
with Content-Length, one thread per connection, 127.0.0.1 only."""
import http.server
import os
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        path = os.path.join(ROOT, os.path.basename(self.path))
        try:
            f = open(path, "rb")
        except OSError:
            self.send_error(404)
            return
        with f:
            size = os.fstat(f.fileno()).st_size
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.flush()
            offset = 0
            while offset < size:
                sent = os.sendfile(self.connection.fileno(), f.fileno(), offset, size - offset)
                if sent == 0:
                    break
                offset += sent
        self.close_connection = True

    def log_message(self, *args):
        pass


ROOT = sys.argv[1]
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
