"""Debian's apache2 in the foreground with a configuration of its own (no system files touched), on
loopback, for the tests that put a third-party Apache module in front of Gatehouse: mod_oauth2 (a
resource server) and mod_auth_openidc (a relying party). Each gets a CGI script, the common server
directives, its modules and its own directives."""
import os
import shutil
import stat
import subprocess
import tempfile
import time

import requests

APACHE = "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"
BASE_MODULES = ["mpm_prefork", "authn_core", "authz_core", "authz_user", "alias", "cgi", "env"]


class Apache:
    def __init__(self, port, module, log_module, cgi_name, cgi, directives):
        """Serves `cgi` (a shell script) as /<location>/`cgi_name`, loading mod_`module` besides the
        base modules; `directives(script)` gives the module's part of the configuration."""
        self.root = tempfile.mkdtemp(prefix=f"gatehouse-{module}-")
        os.chmod(self.root, 0o755)
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        cgi_dir = os.path.join(self.root, "cgi")
        os.mkdir(cgi_dir)
        os.chmod(cgi_dir, 0o755)
        script = os.path.join(cgi_dir, cgi_name)
        with open(script, "w") as handle:
            handle.write(cgi)
        os.chmod(script, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
        conf = "\n".join(
            [f'ServerRoot "{self.root}"', f"Listen 127.0.0.1:{port}", f'PidFile "{self.root}/httpd.pid"',
             f'ErrorLog "{self.root}/error.log"', f"LogLevel warn {log_module}:info", "ServerName 127.0.0.1",
             "User nobody", "Group nogroup", "StartServers 2", f'DefaultRuntimeDir "{self.root}"']
            + [f"LoadModule {name}_module {MODULES}/mod_{name}.so" for name in BASE_MODULES + [module]]
            + directives(script) + [""])
        self.conf = os.path.join(self.root, "httpd.conf")
        with open(self.conf, "w") as handle:
            handle.write(conf)
        # A session of its own: on shutdown Apache signals its whole process group.
        self.process = subprocess.Popen([APACHE, "-f", self.conf, "-DFOREGROUND"], stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                requests.get(self.base + "/", timeout=1)
                return
            except requests.ConnectionError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        raise AssertionError("apache did not start: " + self.log())

    def log(self):
        output = self.process.stdout.read().decode() if self.process.poll() is not None else ""
        path = os.path.join(self.root, "error.log")
        return output + (open(path).read() if os.path.exists(path) else "")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)
