#!/usr/bin/env python3
"""The layers the build enforces: a service's domain/ library is pure rules over protobuf
messages, so nothing it links, directly or through other targets, may reach gRPC, RocksDB,
Kafka, HTTP or SMTP, or the libraries built on them.

Reads <build>/layers.txt, written at configure time by cowork_check_layers() (cmake/cowork.cmake):
one line per domain library, "<name>: <its link closure>". Fails naming each library and what
it reaches. Before that it checks itself: a closure holding each forbidden piece must fail.

Usage: layers_test.py <build>/layers.txt
"""

import re
import sys

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
    print(f"layers: {len(closures)} domain libraries, {len(found)} problems")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
