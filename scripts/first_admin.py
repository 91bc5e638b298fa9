"""Signs in to a just-started `pipewise serve` as the admin whose one-time password it
printed, and makes a write token: what the CI's Schemathesis run and the API benchmark
both start from. Standard library only."""

import json
import re
import urllib.request


class Api:
    """The `demo` workspace's API of the server whose output is in `log_path`."""

    def __init__(self, log_path):
        log = open(log_path).read()
        self.email, self.password = re.search(
            r"sign in as (\S+) with password (\S+)", log).groups()
        self.base = re.search(r"at (http://\S+?)/ ", log).group(1)
        self.api = f"{self.base}/api/v1/workspaces/demo"

    def call(self, method, path, body=None, headers=None):
        """One request; returns the answer's headers and JSON body."""
        request = urllib.request.Request(
            self.api + path, method=method,
            headers={"content-type": "application/json", **(headers or {})},
            data=json.dumps(body).encode() if body is not None else None)
        with urllib.request.urlopen(request) as response:
            return response.headers, json.load(response)

    def write_token(self, name):
        """Signs in with the printed password and returns a new write token's secret."""
        headers, session = self.call(
            "POST", "/session", {"email": self.email, "password": self.password})
        cookie = headers["set-cookie"].split(";")[0]
        _, token = self.call("POST", "/tokens", {"name": name, "scope": "write"},
                             {"cookie": cookie, "x-csrf-token": session["csrf_token"]})
        return token["secret"]
