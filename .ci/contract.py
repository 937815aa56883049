#!/usr/bin/env python3
"""The OpenAPI document as a contract: Schemathesis against the running service, on SQLite and PostgreSQL.

For each backend this starts the service on a fresh database, stores a little of everything (a vendor, a
submitted request, an invitation, an assessment), mints a token for each of several roles and runs Schemathesis
with every check against the document the service serves, a bounded number of examples per operation. Any
failure fails the run (exit 1).

    .ci/contract.py [--binary target/debug/procurement-review] [--examples 10] [--backend sqlite|postgres]...
                    [--role admin|buyer|vendor|security_analyst]...

PostgreSQL is taken from TEST_POSTGRES_URL (a fresh schema is created in it and dropped after); without it only
SQLite runs. Schemathesis must be installed (`python3 -m pip install schemathesis==4.32.5`).
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemathesis.toml")
ROLES = ["admin", "buyer", "vendor", "security_analyst"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, token, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", "Bearer " + token)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
            return response.status, response.headers, (json.loads(text) if text else None)
    except urllib.error.HTTPError as error:
        raise SystemExit(f"seeding: {method} {path} answered {error.code}: {error.read().decode()}")


class Service:
    def __init__(self, binary, database_url, workdir):
        self.binary = binary
        self.env = dict(os.environ, DATABASE_URL=database_url, PROCUREMENT_REVIEW_LOG_LEVEL="warn")
        self.port = free_port()
        self.env["PROCUREMENT_REVIEW_LISTEN"] = f"127.0.0.1:{self.port}"
        self.env["PROCUREMENT_REVIEW_PUBLIC_URL"] = f"http://127.0.0.1:{self.port}"
        self.env["PROCUREMENT_REVIEW_QUESTIONNAIRES_DIR"] = os.path.abspath("questionnaires")
        self.base = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.log = open(os.path.join(workdir, "service.log"), "w")
        self.process = subprocess.Popen([binary, "serve"], env=self.env, cwd=workdir, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2):
                    return
            except OSError:
                if self.process.poll() is not None or time.time() > deadline:
                    raise SystemExit(f"the service did not start; its log: {self.log.name}")
                time.sleep(0.2)

    def token(self, role, subject, department=None, vendor=None):
        command = [self.binary, "token", "--role", role, "--sub", subject]
        if department:
            command += ["--department", department]
        if vendor:
            command += ["--vendor", vendor]
        return subprocess.run(command, env=self.env, cwd=self.workdir, check=True, capture_output=True,
                              text=True).stdout.strip()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def seed(service):
    """Stores one of each main object, so that lists and reads answer with real (partly empty) records."""
    admin = service.token("admin", "contract-admin")
    buyer = service.token("buyer", "contract-buyer", department="DOIT")
    base = service.base
    call(base, "POST", "/api/v1/departments", admin, {"code": "DOIT", "name": "Department of Innovation and Technology"})
    _, _, vendor = call(base, "POST", "/api/v1/vendors", admin,
                        {"legal_name": "Contract Check Inc.", "hq_country": "US",
                         "website": "https://vendor.example"})
    purchase = {
        "title": "Permit e-signature", "description": "Sign permit documents online",
        "vendor_id": vendor["id"], "product_name": "SignIt", "category": "e-signature",
        "capabilities": ["electronic signatures"], "capital_cost_cents": 0,
        "annual_operating_cost_cents": 6_000_000, "term_months": 12, "expected_users": 100,
        "hosting": "vendor_cloud", "data_classes": ["pi_ma"],
        "requested_start_date": "2027-01-04", "renewal": False, "enterprise_agreement": False,
        "surveillance": False, "face_surveillance": False,
    }
    _, _, request = call(base, "POST", "/api/v1/requests", buyer, purchase)
    _, headers, _ = call(base, "GET", f"/api/v1/requests/{request['id']}", buyer)
    call(base, "POST", f"/api/v1/requests/{request['id']}/submit", buyer,
         headers={"If-Match": headers["ETag"]})
    call(base, "POST", f"/api/v1/vendors/{vendor['id']}/invitations", admin,
         {"request_id": request["id"], "contact_email": "security@vendor.example"})
    return vendor["id"]


def tokens(service, vendor):
    made = {}
    for role in ROLES:
        made[role] = service.token(role, f"contract-{role}",
                                   department="DOIT" if role == "buyer" else None,
                                   vendor=vendor if role == "vendor" else None)
    return made


def schemathesis(service, role, token, examples, report_dir):
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", CONFIG, "run", service.base + "/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--max-examples", str(examples),
        "--seed", "20261130",
        "--workers", "1",
        "--phases", "examples,coverage,fuzzing",
        "--report", "junit",
        "--report-junit-path", os.path.join(report_dir, f"{role}.xml"),
    ]
    print(f"  as {role}: schemathesis, {examples} examples per operation", flush=True)
    started = time.time()
    result = subprocess.run(command)
    print(f"  as {role}: exit {result.returncode} in {time.time() - started:.0f} s", flush=True)
    return result.returncode == 0


def run_backend(name, binary, examples, report_root, roles):
    workdir = tempfile.mkdtemp(prefix=f"contract-{name}-")
    schema = None
    if name == "sqlite":
        database_url = f"sqlite:{os.path.join(workdir, 'contract.db')}"
    else:
        admin_url = os.environ["TEST_POSTGRES_URL"]
        schema = f"contract_{os.getpid()}"
        subprocess.run(["psql", admin_url, "-q", "-c", f"DROP SCHEMA IF EXISTS {schema} CASCADE",
                        "-c", f"CREATE SCHEMA {schema}"], check=True)
        separator = "&" if "?" in admin_url else "?"
        database_url = f"{admin_url}{separator}options=-c%20search_path%3D{schema}"
    print(f"contract check on {name}", flush=True)
    service = Service(binary, database_url, workdir)
    ok = True
    try:
        vendor = seed(service)
        report_dir = os.path.join(report_root, name)
        os.makedirs(report_dir, exist_ok=True)
        for role, token in tokens(service, vendor).items():
            if role in roles:
                ok = schemathesis(service, role, token, examples, report_dir) and ok
    finally:
        service.stop()
        if not ok:
            print(f"the service's log: {service.log.name}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        if schema:
            subprocess.run(["psql", os.environ["TEST_POSTGRES_URL"], "-q", "-c",
                            f"DROP SCHEMA IF EXISTS {schema} CASCADE"], check=False)
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default="target/debug/procurement-review")
    parser.add_argument("--examples", type=int, default=10)
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgres"])
    parser.add_argument("--report-dir", default="target/contract")
    parser.add_argument("--role", action="append", choices=ROLES, help="only these roles (default: all)")
    args = parser.parse_args()
    args.binary = os.path.abspath(args.binary)
    backends = args.backend or (["sqlite", "postgres"] if os.environ.get("TEST_POSTGRES_URL") else ["sqlite"])
    roles = args.role or ROLES
    results = {name: run_backend(name, args.binary, args.examples, args.report_dir, roles) for name in backends}
    for name, ok in results.items():
        print(f"contract check on {name}: {'passed' if ok else 'FAILED'}")
    sys.exit(0 if all(results.values()) else 1)


if __name__ == "__main__":
    main()
