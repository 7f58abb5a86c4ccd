#!/usr/bin/env python3
"""The layers the build enforces: a service's domain/ library is pure rules over protobuf
messages, so nothing it links, directly or through other targets, may reach gRPC, RocksDB,
Kafka, HTTP or SMTP, or the libraries built on them. And only a service's grpc/ adapters (and
tests that go through gRPC) include gRPC: no file of domain/, projection/ or app/ does.

Reads <build>/layers.txt, written at configure time by cowork_check_layers() (cmake/cowork.cmake):
one line per domain library, "<name>: <its link closure>". Fails naming each library and what
it reaches. Before that it checks itself: a closure holding each forbidden piece must fail.

Usage: layers_test.py <build>/layers.txt
"""

import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
# An include of gRPC itself, of a generated service stub, or of our headers built on gRPC.
GRPC_INCLUDE = re.compile(
    r'^\s*#\s*include\s+"(grpcpp/|[^"]*\.grpc\.pb\.h|libs/runtime/(handlers|runtime)\.h|'
    r'libs/server/(server|tls)\.h)', re.M)

# What a domain library must not reach: the names (targets or libraries, any case) matching.
FORBIDDEN = {
    "gRPC": re.compile(r"grpc", re.I),
    "RocksDB": re.compile(r"rocksdb", re.I),
    "Kafka": re.compile(r"rdkafka|^cowork_kafka$", re.I),
    "HTTP and SMTP": re.compile(r"httplib|curl", re.I),
    "the event store": re.compile(r"^cowork_eventstore$"),
    "the server and runtime kits": re.compile(r"^cowork_(server|service|runtime)$"),
}


def problems(closures):
    out = []
    for name, links in sorted(closures.items()):
        for what, pattern in FORBIDDEN.items():
            hits = [link for link in links if pattern.search(link)]
            if hits:
                out.append(f"{name} reaches {what}: {' '.join(sorted(set(hits)))}")
    return out


def read(path):
    closures = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            name, _, links = line.partition(":")
            closures[name.strip()] = links.split()
    return closures


def self_check():
    """Each forbidden piece, linked by a made-up domain library, is caught."""
    samples = {
        "gRPC": "gRPC::grpc++",
        "RocksDB": "RocksDB::rocksdb",
        "Kafka": "PkgConfig::RDKAFKA",
        "HTTP and SMTP": "PkgConfig::CPPHTTPLIB",
        "the event store": "cowork_eventstore",
        "the server and runtime kits": "cowork_server",
    }
    missed = [what for what, link in samples.items()
              if not problems({"made_up_domain": ["protobuf::libprotobuf", link]})]
    clean = problems({"made_up_domain": ["protobuf::libprotobuf", "cowork_status",
                                         "cowork_bookings_api_proto_messages"]})
    return missed, clean


def grpc_includes(root):
    """Files of services/*/{domain,projection,app} (tests aside) that include gRPC."""
    out = []
    services = os.path.join(root, "services")
    for service in sorted(os.listdir(services)):
        for layer in ("domain", "projection", "app"):
            folder = os.path.join(services, service, layer)
            if not os.path.isdir(folder):
                continue
            for name in sorted(os.listdir(folder)):
                if not name.endswith((".h", ".cc")) or "_test" in name:
                    continue
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as f:
                    if GRPC_INCLUDE.search(f.read()):
                        out.append(os.path.relpath(path, root))
    return out


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    missed, clean = self_check()
    if missed or clean:
        print(f"self-check failed: not caught {missed}, wrongly caught {clean}")
        return 1
    closures = read(sys.argv[1])
    if len(closures) < 6:
        print(f"{sys.argv[1]} lists {len(closures)} domain libraries; every service has one")
        return 1
    found = problems(closures)
    for p in found:
        print(p)
    if not GRPC_INCLUDE.search('#include "grpcpp/grpcpp.h"') or GRPC_INCLUDE.search(
            '#include "cowork/bookings/v1/bookings.pb.h"'):
        print("self-check failed: the gRPC include pattern")
        return 1
    includers = grpc_includes(ROOT)
    for path in includers:
        print(f"{path} includes gRPC: only grpc/ adapters may")
    print(f"layers: {len(closures)} domain libraries, {len(found) + len(includers)} problems")
    return 1 if found or includers else 0


if __name__ == "__main__":
    sys.exit(main())
