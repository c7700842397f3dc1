#!/usr/bin/env python3
"""Runs a `// run: local-provider` snippet program against a fresh embedded provider.

usage: run_with_provider.py [--allow-rejections] OIDC_LOCAL_PROVIDER SNIPPET [ARGS...]

Starts tests/support/local_provider_main.cpp (the Keycloak/SimpleIdServer-shaped provider that
replays the seed documents), reads its `ready <provider_url> <control_url>` line, and runs
`SNIPPET <provider_url> ARGS...` with OIDC_PROVIDER_URL and OIDC_PROVIDER_CONTROL in the
environment (the control endpoints are listed at the top of local_provider_main.cpp). The
provider approves device logins on the first poll, as a user at the browser would. Fails when the
snippet exits non-zero, or when the provider recorded a rejected request (a client bug that a
lenient server would have hidden), unless --allow-rejections (docs/snippets/CMakeLists.txt passes it when the snippet's first line
says `// run: local-provider allow-rejections`: a snippet that shows a refused request).
"""
import json
import os
import subprocess
import sys
import urllib.request


def control(base, method, path):
    req = urllib.request.Request(base + path, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"{}")


def main():
    argv = sys.argv[1:]
    allow_rejections = bool(argv) and argv[0] == "--allow-rejections"
    if allow_rejections:
        argv = argv[1:]
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    provider_exe, snippet, *args = argv
    provider = subprocess.Popen([provider_exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ready = provider.stdout.readline().split()
        if len(ready) != 3 or ready[0] != "ready":
            print(f"run_with_provider: the provider did not start: {ready!r}", file=sys.stderr)
            return 1
        url, ctl = ready[1], ready[2]
        control(ctl, "POST", "/auto_approve?polls=0")
        env = dict(os.environ, OIDC_PROVIDER_URL=url, OIDC_PROVIDER_CONTROL=ctl)
        rc = subprocess.run([snippet, url, *args], env=env, timeout=120).returncode
        if rc != 0:
            print(f"run_with_provider: {os.path.basename(snippet)} exited with {rc}", file=sys.stderr)
            return 1
        rejections = control(ctl, "GET", "/counts")["rejections"]
        if rejections and not allow_rejections:
            print(f"run_with_provider: the provider rejected {rejections} request(s) from "
                  f"{os.path.basename(snippet)}: GET {ctl}/requests shows them while it runs", file=sys.stderr)
            return 1
        return 0
    finally:
        provider.stdin.close()  # end of stdin stops it
        try:
            provider.wait(timeout=20)
        except subprocess.TimeoutExpired:
            provider.kill()
            provider.wait()


if __name__ == "__main__":
    sys.exit(main())
