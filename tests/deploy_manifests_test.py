#!/usr/bin/env python3
"""Renders every kustomize overlay under deploy/ and checks what must hold in each.

    tests/deploy_manifests_test.py [REPO_ROOT]

The rules (each a function below, each returning the problems it finds):
  - every service of the code (services/*/main.cc: name, gRPC port, metrics port) has its
    StatefulSet (one replica, its own binary), its Service, its PodDisruptionBudget;
  - the services listen on all interfaces at the ports of the code, and the Prometheus
    annotations name the metrics port;
  - readiness (and start-up) probes are GET /healthz, liveness probes GET /livez, on the
    metrics port (the kubelet's gRPC probes cannot speak TLS); no other kind of probe;
  - terminationGracePeriodSeconds is well above the drain (COWORK_DRAIN_SECONDS);
  - COWORK_DATA_DIR lies on a volume from a volumeClaimTemplate (not the image, not emptyDir);
  - configuration comes from a ConfigMap present in the overlay, and every COWORK_* variable
    is one the code reads;
  - no secret value in plain text: no Secret with data, no secret-looking key or value in a
    ConfigMap or an env value, no PEM private key anywhere, not the retired HS256 secrets, not
    the dev secrets nor the dev keys of libs/auth;
  - token keys: outside dev mode every service verifies with the three public keys of the
    Secret cowork-tokens, and only cowork-customers has the session signing key (Secret
    cowork-session-signing, its path in its own env); in dev mode no *_KEY_FILE at all;
  - gRPC TLS: outside dev mode every service has COWORK_TLS_CERT_FILE, _KEY_FILE and
    _CLIENT_CA_FILE from a Secret a cert-manager Certificate makes (its Service and pod names,
    issued by a CA Issuer whose CA a self-signed Issuer made), reflection off, and a client
    Certificate of the same CA exists for frontends; dev mode is plaintext;
  - images pinned: a tag that is not `latest`, or a digest; digests only in prod;
  - requests and limits for CPU and memory; non-root, read-only root filesystem;
  - every topic of the code (cowork.<service>.events and the dev broker's list) is one
    KafkaTopic with replication 3, min.insync.replicas=2, no deletion by age or size, of the
    Kafka cluster the overlay defines; KafkaTopic (deploy/kafka/topics.yaml) and KafkaUser
    (deploy/kafka/users.yaml) each defined in one file only;
  - the Kafka cluster: no plain (tls: false) listener, authentication on every listener,
    authorization simple, the User Operator; the services' bootstrap port is a TLS listener
    with client certificates;
  - Kafka users: each service has its KafkaUser (TLS, simple) with exactly the ACLs the code
    implies: Write+Read+Describe on its own topics (events, and keys for the services that
    keep keys), Read+Describe on the topics its consumers read
    (ConsumerOptions and Runtime::FollowCustomers in the code), Read on groups "<service>."
    (every consumer name of the code starts so), IdempotentWrite on the cluster; the analysts'
    user only reads cowork.* topics and cowork.* groups (those of the tools in libs/kafka);
    each pod mounts its own user's certificate and the cluster CA where COWORK_KAFKA_PROPERTY
    says, and never overrides enable.idempotence, acks or max.in.flight; no other user;
  - NetworkPolicies: every service pod isolated both ways; its gRPC port reachable from the
    cowork pods and frontends (cowork.io/role: frontend) only, its metrics port from
    Prometheus (app.kubernetes.io/name: prometheus) only, no other port; egress only to DNS
    (53 UDP and TCP), the Kafka brokers' listener (strimzi.io/cluster) and, for the service
    that sends emails (the code reads COWORK_SMTP_URL), SMTP (25, 465, 587);
  - deploy/monitoring renders and its alerts use only metrics the code exports.
A self-check then breaks a rendered overlay in one way per rule and makes sure the rule sees
something it did not see before: a rule that cannot fail is worse than none.

Needs python3-yaml and kubectl (Google's package or Debian's kubernetes-client; `kubectl
kustomize` works offline), or a standalone `kustomize`. COWORK_KUBECTL names another kubectl.
"""

import copy
import glob
import os
import re
import shutil
import subprocess
import sys

try:
    import yaml
except ImportError:
    print("FAIL: python3-yaml is missing (tools/install-deps installs it)")
    sys.exit(1)

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), ".."))
DEPLOY = os.path.join(ROOT, "deploy")

# The drain a service uses when COWORK_DRAIN_SECONDS is not set (libs/server/flags.h), and
# how much longer than the drain the grace period must be: consumers, relay and store close.
DEFAULT_DRAIN_SECONDS = 10
GRACE_MARGIN_SECONDS = 10

SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|(^|_)KEY$", re.I)
SECRET_VALUE = re.compile(
    r"(password|passwd|secret|sasl\.password|ssl\.key\.password)\s*[=:]"  # key=value inside
    r"|://[^/\s:@]+:[^/\s@]+@"                                              # user:pass@host
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----", re.I)
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
PRIVATE_KEY_BLOCK = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
# The HS256 secrets the services no longer read (tokens are ES256 now).
RETIRED_VARS = ("COWORK_ADMIN_TOKEN_SECRET", "COWORK_SESSION_TOKEN_SECRET")

# Token keys: {variable: (Secret, key)}. Every service verifies with the public keys; only
# SIGNING_SERVICE signs the customers' sessions.
TOKEN_PUBLIC_KEYS = {
    "COWORK_SESSION_PUBLIC_KEY_FILE": ("cowork-tokens", "session-public-key.pem"),
    "COWORK_PLATFORM_PUBLIC_KEY_FILE": ("cowork-tokens", "platform-public-key.pem"),
    "COWORK_ADMIN_PUBLIC_KEY_FILE": ("cowork-tokens", "admin-public-key.pem"),
}
SIGNING_SERVICE = "customers"
SIGNING_VAR = "COWORK_SESSION_PRIVATE_KEY_FILE"
SIGNING_SECRET = ("cowork-session-signing", "session-private-key.pem")
KEY_FILE_VAR = re.compile(r"^COWORK_\w*_KEY_FILE$")

# gRPC TLS: {variable: the key of the cert-manager Secret it names}.
TLS_FILES = {"COWORK_TLS_CERT_FILE": "tls.crt", "COWORK_TLS_KEY_FILE": "tls.key",
             "COWORK_TLS_CLIENT_CA_FILE": "ca.crt"}

# The producer guarantees the services refuse to have overridden (librdkafka names).
PRODUCER_GUARANTEES = re.compile(
    r"^(enable\.idempotence|acks|request\.required\.acks|"
    r"max\.in\.flight(\.requests\.per\.connection)?)$")
ANALYSTS_USER = "cowork-analysts"

# The labels the NetworkPolicies let in (docs/OPERATIONS.md, "Kafka security, certificates and
# network policies").
PART_OF = ("app.kubernetes.io/part-of", "cowork")
FRONTEND = ("cowork.io/role", "frontend")
PROMETHEUS = ("app.kubernetes.io/name", "prometheus")
DNS_PORT = 53
SMTP_PORTS = (25, 465, 587)


# ---------------------------------------------------------------- the code's facts

def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def sources(*folders):
    for folder in folders:
        for path in glob.glob(os.path.join(ROOT, folder, "**", "*"), recursive=True):
            if path.endswith((".cc", ".h")) and os.path.isfile(path):
                yield path


def code_services():
    """{service: (grpc port, metrics port)} from services/*/main.cc."""
    found = {}
    pattern = re.compile(r'\.service\s*=\s*"(\w+)"\s*,\s*\.port\s*=\s*(\d+)\s*,\s*'
                         r'\.metrics_port\s*=\s*(\d+)')
    for main in glob.glob(os.path.join(ROOT, "services", "*", "main.cc")):
        for name, port, metrics in pattern.findall(read(main)):
            found[name] = (int(port), int(metrics))
    return found


def code_env_vars():
    names = set()
    for path in sources("libs", "services"):
        names.update(re.findall(r'"(COWORK_[A-Z0-9_]+)"', read(path)))
    return names


def code_metrics():
    names = set()
    for path in sources("libs", "services"):
        names.update(re.findall(r'"(cowork_[a-z0-9_]+)"', read(path)))
    return names


def code_dev_secrets():
    return re.findall(r'kDev\w*Secret\s*=\s*"([^"]+)"', read(os.path.join(ROOT, "libs/auth/auth.h")))


def code_topics(services, key_keepers):
    topics = {"cowork.%s.events" % s for s in services}
    topics |= {"cowork.%s.keys" % s for s in key_keepers}
    devbroker = os.path.join(ROOT, "tools/devbroker/main.cc")
    if os.path.exists(devbroker):
        topics.update(re.findall(r'"(cowork\.[a-z0-9_]+\.(?:events|keys))"', read(devbroker)))
    return topics


def code_key_keepers(services):
    """The services that publish their seal keys to cowork.<service>.keys: their main() says
    keeps_keys = true (libs/server/flags.h)."""
    return {svc for svc in services
            if re.search(r"\.keeps_keys\s*=\s*true",
                         read(os.path.join(ROOT, "services", svc, "main.cc")))}


def code_dev_key_lines():
    """The base64 lines of the PEM blocks (dev key pairs) in libs/auth's sources."""
    lines = set()
    for path in sources("libs/auth"):
        if path.endswith("_test.cc"):
            continue
        for body in re.findall(r"-----BEGIN [A-Z0-9 ]+-----(.*?)-----END [A-Z0-9 ]+-----",
                               read(path), re.S):
            lines.update(re.findall(r"[A-Za-z0-9+/=]{40,}", body))
    return sorted(lines)


TOPICS_BLOCK = re.compile(r"\btopics\s*=\s*\{([^{}]*)\}")
TOPIC_FOR = re.compile(r'TopicFor\(\s*"([a-z0-9_]+)"\s*\)')
NAME_SET = re.compile(r'\bname\s*=\s*(?:std::string\(\s*)?("[^"]*"|\w+)')


def consumers_in(text):
    """{consumer name (or the unresolved expression): {topics}} of the ConsumerOptions in text:
    each `topics = {TopicFor("x"), ...}` with the nearest `name = ...` before it."""
    constants = dict(re.findall(r'\b(k\w+)\s*=\s*"([^"]*)"', text))
    found = {}
    for m in TOPICS_BLOCK.finditer(text):
        topics = {"cowork.%s.events" % t for t in TOPIC_FOR.findall(m.group(1))}
        if not topics:
            continue
        names = NAME_SET.findall(text[max(0, m.start() - 400):m.start()])
        name = names[-1] if names else "?"
        name = name.strip('"') if name.startswith('"') else constants.get(name, name)
        found.setdefault(name, set()).update(topics)
    return found


def code_consumers(services):
    """{service: {consumer name: {topics it reads}}} from the code: the ConsumerOptions under
    services/<service>/, and Runtime::FollowCustomers (libs/runtime/runtime.cc, consumer
    "<service>" + its suffix) for the services that call it."""
    runtime = read(os.path.join(ROOT, "libs/runtime/runtime.cc"))
    follow = {}
    start = runtime.find("Runtime::FollowCustomers(")
    if start >= 0:
        body = runtime[start:runtime.find("\n}\n", start)]
        suffix = re.search(r'StrCat\(\s*flags_\.service\s*,\s*"([^"]+)"\s*\)', body)
        topics = set().union(*consumers_in(body).values()) if consumers_in(body) else set()
        follow = {"suffix": suffix.group(1) if suffix else "?", "topics": topics}
    found = {}
    for svc in services:
        text = "\n".join(read(p) for p in sources(os.path.join("services", svc))
                         if not p.endswith("_test.cc"))
        consumers = consumers_in(text)
        if follow and re.search(r"\bFollowCustomers\(", text):
            consumers.setdefault(svc + follow["suffix"], set()).update(follow["topics"])
        found[svc] = consumers
    return found


def code_tool_groups():
    """The group ids the tools' readers use (libs/kafka: ReadAll, TopicStream)."""
    groups = set()
    for path in sources("libs/kafka"):
        if not path.endswith("_test.cc"):
            groups.update(re.findall(r'"group\.id"\s*,\s*"([^"]+)"', read(path)))
    return groups


def code_smtp_services(services):
    """The services that send emails: their code reads COWORK_SMTP_URL."""
    return {svc for svc in services
            if any('"COWORK_SMTP_URL"' in read(p) for p in sources(os.path.join("services", svc)))}


class Facts:
    def __init__(self):
        self.services = code_services()
        self.env_vars = code_env_vars()
        self.metrics = code_metrics()
        self.dev_secrets = code_dev_secrets()
        self.dev_key_lines = code_dev_key_lines()
        self.key_keepers = code_key_keepers(self.services)
        self.topics = code_topics(self.services, self.key_keepers)
        self.consumers = code_consumers(self.services)
        self.tool_groups = code_tool_groups()
        self.smtp_services = code_smtp_services(self.services)


# ---------------------------------------------------------------- rendering

def kustomize_command():
    """The command that renders a kustomization directory, or None."""
    candidates = []
    if os.environ.get("COWORK_KUBECTL"):
        candidates.append(os.environ["COWORK_KUBECTL"])
    which = shutil.which("kubectl")
    if which:
        candidates.append(which)
    candidates.append("/usr/bin/kubectl")  # Google's kubectl or Debian's kubernetes-client
    for kubectl in candidates:
        if os.access(kubectl, os.X_OK):
            return [kubectl, "kustomize"]
    kustomize = shutil.which("kustomize")
    if kustomize:
        return [kustomize, "build"]
    return None


def render(command, directory):
    result = subprocess.run(command + [directory], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("%s %s failed:\n%s" % (" ".join(command), directory, result.stderr))
    return [d for d in yaml.safe_load_all(result.stdout) if d]


# ---------------------------------------------------------------- helpers

def objects(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def named(docs, kind, name):
    for d in objects(docs, kind):
        if d["metadata"].get("name") == name:
            return d
    return None


def pod_spec(workload):
    return workload.get("spec", {}).get("template", {}).get("spec", {})


def containers(workload):
    spec = pod_spec(workload)
    return spec.get("containers", []) + spec.get("initContainers", [])


def workloads(docs):
    return [d for d in docs if d.get("kind") in
            ("StatefulSet", "Deployment", "DaemonSet", "Job", "ReplicaSet", "Pod", "CronJob")]


def all_containers(docs):
    for w in workloads(docs):
        if w["kind"] == "CronJob":
            spec = w["spec"]["jobTemplate"]["spec"]["template"]["spec"]
            for c in spec.get("containers", []) + spec.get("initContainers", []):
                yield w, c
        elif w["kind"] == "Pod":
            for c in w["spec"].get("containers", []) + w["spec"].get("initContainers", []):
                yield w, c
        else:
            for c in containers(w):
                yield w, c


def environment(docs, container):
    """The container's variables: {name: ("value", text) | ("secret", ref) | ("other", src)}."""
    env = {}
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef")
        if ref:
            cm = named(docs, "ConfigMap", ref.get("name"))
            for k, v in ((cm or {}).get("data") or {}).items():
                env[k] = ("value", str(v))
        elif source.get("secretRef"):
            env["<secretRef %s>" % source["secretRef"].get("name")] = ("other", "secretRef")
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = ("value", str(e["value"]))
        elif "secretKeyRef" in e.get("valueFrom", {}):
            env[e["name"]] = ("secret", e["valueFrom"]["secretKeyRef"])
        else:
            env[e["name"]] = ("other", e.get("valueFrom"))
    return env


def port_of(address):
    return int(address.rsplit(":", 1)[1]) if address and ":" in address else None


def named_port(container, name):
    for p in container.get("ports", []):
        if p.get("name") == name:
            return p.get("containerPort")
    return None


def service_container(workload, service):
    for c in pod_spec(workload).get("containers", []):
        if any(("cowork-" + service) in part for part in c.get("command", []) + c.get("args", [])):
            return c
    return None


def service_containers(docs, facts):
    """(service, its StatefulSet, the container running it) for each service the overlay runs
    (check_workloads reports a missing StatefulSet or container)."""
    for svc in sorted(facts.services):
        sts = named(docs, "StatefulSet", "cowork-" + svc)
        c = sts and service_container(sts, svc)
        if c:
            yield svc, sts, c


def within(path, mount):
    mount = mount.rstrip("/") or "/"
    return path == mount or path.startswith(mount + "/")


def any_pod_spec(workload):
    if workload["kind"] == "CronJob":
        return workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    if workload["kind"] == "Pod":
        return workload["spec"]
    return pod_spec(workload)


def secret_file(workload, container, path):
    """(Secret name, key) of the Secret file the container sees at path, or None."""
    mounts = [m for m in container.get("volumeMounts", []) if within(path, m.get("mountPath", ""))]
    if not mounts:
        return None
    mount = max(mounts, key=lambda m: len(m["mountPath"]))
    volume = {v["name"]: v for v in any_pod_spec(workload).get("volumes", [])}.get(mount["name"])
    if volume is None:
        return None
    rel = path[len(mount["mountPath"].rstrip("/")):].lstrip("/")
    if mount.get("subPath"):
        rel = mount["subPath"] + ("/" + rel if rel else "")
    found = []
    if "secret" in volume:
        found.append((volume["secret"].get("secretName"), volume["secret"].get("items")))
    for source in volume.get("projected", {}).get("sources", []):
        if "secret" in source:
            found.append((source["secret"].get("name"), source["secret"].get("items")))
    for name, items in found:
        if items:
            for item in items:
                if item.get("path") == rel:
                    return name, item.get("key")
        elif rel and "/" not in rel:
            return name, rel
    return None


def secret_names(workload):
    """Every Secret the workload's pods read: volumes, secretKeyRef, envFrom."""
    spec = any_pod_spec(workload)
    names = set()
    for v in spec.get("volumes", []):
        if "secret" in v:
            names.add(v["secret"].get("secretName"))
        for source in v.get("projected", {}).get("sources", []):
            if "secret" in source:
                names.add(source["secret"].get("name"))
    for c in spec.get("containers", []) + spec.get("initContainers", []):
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                names.add(ref.get("name"))
        for source in c.get("envFrom", []):
            if source.get("secretRef"):
                names.add(source["secretRef"].get("name"))
    return names


def strings(node):
    """Every string (keys and values) in a parsed document."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield str(k)
            yield from strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from strings(v)
    elif isinstance(node, str):
        yield node


def truthy(value):
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def is_dev(env):
    return truthy(env.get("COWORK_DEV", ("", ""))[1])


def kafka_properties(env):
    """COWORK_KAFKA_PROPERTY as [(key, value)] (';' separates properties)."""
    props = []
    for part in env.get("COWORK_KAFKA_PROPERTY", ("", ""))[1].split(";"):
        if part.strip():
            key, _, value = part.partition("=")
            props.append((key.strip(), value.strip()))
    return props


def selects(selector, labels):
    """Whether a label selector (matchLabels, matchExpressions) selects these labels."""
    if selector is None:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def policy_types(policy):
    spec = policy.get("spec", {})
    if spec.get("policyTypes"):
        return set(spec["policyTypes"])
    return {"Ingress"} | ({"Egress"} if "egress" in spec else set())


def port_number(container, port):
    """A NetworkPolicy or probe port (number or name) as the container's port number."""
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    return named_port(container, port)


def kafka_clusters(docs):
    return {k["metadata"]["name"] for k in objects(docs, "Kafka")}


def kafka_listener_ports(docs):
    return {l.get("port") for k in objects(docs, "Kafka")
            for l in k.get("spec", {}).get("kafka", {}).get("listeners", [])}


# ---------------------------------------------------------------- rules

def check_services_present(docs, facts, overlay):
    problems = []
    for svc, (port, metrics) in sorted(facts.services.items()):
        name = "cowork-" + svc
        sts = named(docs, "StatefulSet", name)
        if sts is None:
            problems.append("%s: no StatefulSet %s" % (svc, name))
            continue
        if sts["spec"].get("replicas", 1) != 1:
            problems.append("%s: replicas must be 1 (one writer per RocksDB)" % name)
        if service_container(sts, svc) is None:
            problems.append("%s: no container runs cowork-%s" % (name, svc))
        labels = sts["spec"]["template"]["metadata"].get("labels", {})
        service = named(docs, "Service", name)
        if service is None:
            problems.append("%s: no Service %s" % (svc, name))
        else:
            selector = service["spec"].get("selector", {})
            if not selector or any(labels.get(k) != v for k, v in selector.items()):
                problems.append("Service %s does not select the pods of %s" % (name, name))
            if not any(p.get("port") == port for p in service["spec"].get("ports", [])):
                problems.append("Service %s has no port %d" % (name, port))
        governing = sts["spec"].get("serviceName")
        if not governing or named(docs, "Service", governing) is None:
            problems.append("%s: serviceName %r is not a Service of the overlay" % (name, governing))
        pdbs = [p for p in objects(docs, "PodDisruptionBudget")
                if all(labels.get(k) == v for k, v in
                       p["spec"].get("selector", {}).get("matchLabels", {}).items())
                and p["spec"].get("selector", {}).get("matchLabels")]
        if not pdbs:
            problems.append("%s: no PodDisruptionBudget selects its pods" % name)
    return problems


def check_ports(docs, facts, overlay):
    problems = []
    for svc, sts, c in service_containers(docs, facts):
        port, metrics = facts.services[svc]
        env = environment(docs, c)
        listen = env.get("COWORK_LISTEN", ("", ""))[1]
        metrics_listen = env.get("COWORK_METRICS_LISTEN", ("", ""))[1]
        if named_port(c, "grpc") != port or port_of(listen) != port:
            problems.append("cowork-%s: gRPC must be port %d (containerPort grpc %s, "
                            "COWORK_LISTEN %r)" % (svc, port, named_port(c, "grpc"), listen))
        if named_port(c, "metrics") != metrics or port_of(metrics_listen) != metrics:
            problems.append("cowork-%s: metrics must be port %d (containerPort metrics %s, "
                            "COWORK_METRICS_LISTEN %r)" % (svc, metrics, named_port(c, "metrics"),
                                                           metrics_listen))
        for what, address in (("COWORK_LISTEN", listen), ("COWORK_METRICS_LISTEN", metrics_listen)):
            if address.startswith(("127.", "localhost", "[::1]")):
                problems.append("cowork-%s: %s=%s is loopback: probes and clients cannot reach "
                                "it" % (svc, what, address))
        annotations = sts["spec"]["template"]["metadata"].get("annotations", {})
        if annotations.get("prometheus.io/scrape") != "true" or \
                annotations.get("prometheus.io/port") != str(metrics):
            problems.append("cowork-%s: prometheus.io/scrape \"true\" and prometheus.io/port "
                            "\"%d\" expected on the pod template" % (svc, metrics))
    return problems


def check_probes(docs, facts, overlay):
    problems = []
    for svc, sts, c in service_containers(docs, facts):
        metrics = facts.services[svc][1]
        for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
            probe = c.get(kind)
            if probe is None:
                if kind != "startupProbe":
                    problems.append("cowork-%s: no %s" % (svc, kind))
                continue
            http = probe.get("httpGet")
            path = "/livez" if kind == "livenessProbe" else "/healthz"
            if not http or http.get("path") != path or \
                    port_number(c, http.get("port")) != metrics or \
                    http.get("scheme", "HTTP") != "HTTP":
                problems.append("cowork-%s: %s must be GET %s on the metrics port %d, got %s"
                                % (svc, kind, path, metrics, probe))
            others = set(probe) & {"grpc", "tcpSocket", "exec"}
            if others:
                problems.append("cowork-%s: %s also has %s" % (svc, kind, sorted(others)))
    return problems


def check_termination(docs, facts, overlay):
    problems = []
    for svc, sts, c in service_containers(docs, facts):
        drain = environment(docs, c).get("COWORK_DRAIN_SECONDS", ("value", str(DEFAULT_DRAIN_SECONDS)))
        try:
            drain_seconds = int(drain[1])
        except ValueError:
            problems.append("cowork-%s: COWORK_DRAIN_SECONDS %r is not a number" % (svc, drain[1]))
            continue
        grace = pod_spec(sts).get("terminationGracePeriodSeconds", 30)
        if grace < drain_seconds + GRACE_MARGIN_SECONDS:
            problems.append("cowork-%s: terminationGracePeriodSeconds %s must be at least the "
                            "drain (%d s) + %d s" % (svc, grace, drain_seconds, GRACE_MARGIN_SECONDS))
    return problems


def check_data_volume(docs, facts, overlay):
    problems = []
    for svc, sts, c in service_containers(docs, facts):
        data_dir = environment(docs, c).get("COWORK_DATA_DIR", ("", ""))[1]
        if not data_dir.startswith("/"):
            problems.append("cowork-%s: COWORK_DATA_DIR must be an absolute path, got %r"
                            % (svc, data_dir))
            continue
        claims = {t["metadata"]["name"]: t for t in sts["spec"].get("volumeClaimTemplates", [])}
        mounts = [m for m in c.get("volumeMounts", []) if within(data_dir, m.get("mountPath", ""))]
        # The deepest mount holding the data dir is where RocksDB writes.
        mount = max(mounts, key=lambda m: len(m["mountPath"]), default=None)
        if mount is None or mount["name"] not in claims or mount.get("readOnly"):
            problems.append("cowork-%s: COWORK_DATA_DIR %s is not on a writable volume from a "
                            "volumeClaimTemplate" % (svc, data_dir))
            continue
        claim = claims[mount["name"]]["spec"]
        if not claim.get("resources", {}).get("requests", {}).get("storage") or \
                "ReadWriteOnce" not in claim.get("accessModes", []):
            problems.append("cowork-%s: volumeClaimTemplate %s needs ReadWriteOnce and a storage "
                            "request" % (svc, mount["name"]))
    return problems


def check_configuration(docs, facts, overlay):
    problems = []
    for svc, sts, c in service_containers(docs, facts):
        refs = [s["configMapRef"]["name"] for s in c.get("envFrom", []) if "configMapRef" in s]
        if not refs:
            problems.append("cowork-%s: no configuration from a ConfigMap (envFrom)" % svc)
        for ref in refs:
            if named(docs, "ConfigMap", ref) is None:
                problems.append("cowork-%s: ConfigMap %s is not in the overlay" % (svc, ref))
        for name in environment(docs, c):
            if name.startswith("COWORK_") and name not in facts.env_vars:
                problems.append("cowork-%s: %s is not a variable the services read" % (svc, name))
    return problems


def check_no_plain_secrets(docs, facts, overlay):
    problems = []
    for secret in objects(docs, "Secret"):
        if secret.get("data") or secret.get("stringData"):
            problems.append("Secret %s carries values: secrets are created outside git"
                            % secret["metadata"]["name"])
    for cm in objects(docs, "ConfigMap"):
        for k, v in (cm.get("data") or {}).items():
            if SECRET_NAME.search(k) and not k.endswith("_FILE"):
                problems.append("ConfigMap %s: %s looks like a secret" % (cm["metadata"]["name"], k))
            if SECRET_VALUE.search(str(v)):
                problems.append("ConfigMap %s: the value of %s holds a secret"
                                % (cm["metadata"]["name"], k))
            if k in RETIRED_VARS:
                problems.append("ConfigMap %s: %s is gone (tokens are ES256: key files)"
                                % (cm["metadata"]["name"], k))
    for w, c in all_containers(docs):
        for e in c.get("env", []):
            if e["name"] in RETIRED_VARS:
                problems.append("%s/%s: %s is gone (tokens are ES256: key files)"
                                % (w["metadata"]["name"], c["name"], e["name"]))
            if "value" not in e:
                continue
            if (SECRET_NAME.search(e["name"]) and not e["name"].endswith("_FILE")) or \
                    SECRET_VALUE.search(str(e["value"])):
                problems.append("%s/%s: %s is set in plain text; use a secretKeyRef"
                                % (w["metadata"]["name"], c["name"], e["name"]))
    for d in docs:
        where = "%s %s" % (d.get("kind"), d.get("metadata", {}).get("name"))
        for s in strings(d):
            if PRIVATE_KEY_BLOCK.search(s):
                problems.append("%s holds a PEM private key" % where)
            for secret in facts.dev_secrets:
                if secret in s:
                    problems.append("%s holds the dev secret %s..." % (where, secret[:12]))
            for line in facts.dev_key_lines:
                if line in s:
                    problems.append("%s holds a dev key of libs/auth (%s...)" % (where, line[:12]))
    return problems


def check_token_keys(docs, facts, overlay):
    """Outside dev mode: the three public keys everywhere, the session signing key in
    SIGNING_SERVICE only. Dev mode: no key file at all. Everywhere: the signing key's Secret and
    variable nowhere else."""
    problems = []
    for svc, sts, c in service_containers(docs, facts):
        env = environment(docs, c)
        own = {e["name"]: e for e in c.get("env", [])}
        if is_dev(env):
            for name in sorted(env):
                if KEY_FILE_VAR.match(name):
                    problems.append("cowork-%s: %s is set in dev mode, which refuses production "
                                    "keys (the dev key pairs stand in)" % (svc, name))
        else:
            for name, (secret, key) in sorted(TOKEN_PUBLIC_KEYS.items()):
                kind, path = env.get(name, ("", ""))
                if kind != "value" or secret_file(sts, c, path) != (secret, key):
                    problems.append("cowork-%s: %s must name %s of the Secret %s, mounted (got "
                                    "%r)" % (svc, name, key, secret, path))
            if svc == SIGNING_SERVICE:
                path = own.get(SIGNING_VAR, {}).get("value", "")
                if not path or secret_file(sts, c, path) != SIGNING_SECRET:
                    problems.append("cowork-%s: %s must be set in its container's env to %s of "
                                    "the Secret %s, mounted (got %r)"
                                    % (svc, SIGNING_VAR, SIGNING_SECRET[1], SIGNING_SECRET[0],
                                       path))
        if svc != SIGNING_SERVICE and SIGNING_VAR in env:
            problems.append("cowork-%s: %s is set: only cowork-%s signs sessions"
                            % (svc, SIGNING_VAR, SIGNING_SERVICE))
    for cm in objects(docs, "ConfigMap"):
        if SIGNING_VAR in (cm.get("data") or {}):
            problems.append("ConfigMap %s: %s is for cowork-%s's container alone, not for every "
                            "pod" % (cm["metadata"]["name"], SIGNING_VAR, SIGNING_SERVICE))
    for w in workloads(docs):
        if SIGNING_SECRET[0] in secret_names(w) and \
                (w["kind"], w["metadata"]["name"]) != ("StatefulSet", "cowork-" + SIGNING_SERVICE):
            problems.append("%s %s reads the Secret %s: only cowork-%s may"
                            % (w["kind"], w["metadata"]["name"], SIGNING_SECRET[0],
                               SIGNING_SERVICE))
    return problems


def issuer_of(docs, certificate):
    ref = certificate.get("spec", {}).get("issuerRef", {})
    if ref.get("group", "cert-manager.io") != "cert-manager.io":
        return None
    return named(docs, ref.get("kind", "Issuer"), ref.get("name"))


def certificate_problems(docs, certificate):
    """Problems of the chain: issued by a CA Issuer whose CA (isCA) a self-signed Issuer made."""
    name = certificate["metadata"]["name"]
    issuer = issuer_of(docs, certificate)
    ca_secret = (issuer or {}).get("spec", {}).get("ca", {}).get("secretName")
    if not ca_secret:
        return ["Certificate %s: its issuer must be a CA Issuer of the overlay" % name]
    ca = [c for c in objects(docs, "Certificate")
          if c.get("spec", {}).get("secretName") == ca_secret and c["spec"].get("isCA")]
    if not ca:
        return ["Certificate %s: no CA Certificate (isCA) makes %s, the Secret of its issuer"
                % (name, ca_secret)]
    root = issuer_of(docs, ca[0])
    if root is None or "selfSigned" not in root.get("spec", {}):
        return ["Certificate %s: the CA %s must come from a self-signed Issuer"
                % (name, ca[0]["metadata"]["name"])]
    return []


def check_grpc_tls(docs, facts, overlay):
    problems = []
    certificates = {c.get("spec", {}).get("secretName"): c for c in objects(docs, "Certificate")}
    issuers = set()
    production = False
    for svc, sts, c in service_containers(docs, facts):
        env = environment(docs, c)
        if is_dev(env):
            for name in sorted(TLS_FILES):
                if name in env:
                    problems.append("cowork-%s: %s in dev mode, which stays plaintext"
                                    % (svc, name))
            continue
        production = True
        if truthy(env.get("COWORK_REFLECTION", ("", "false"))[1]):
            problems.append("cowork-%s: COWORK_REFLECTION must stay off outside dev mode" % svc)
        secrets = set()
        for name, key in sorted(TLS_FILES.items()):
            kind, path = env.get(name, ("", ""))
            found = secret_file(sts, c, path) if kind == "value" and path else None
            if found is None or found[1] != key:
                problems.append("cowork-%s: %s must name %s of the mounted certificate Secret "
                                "(got %r)" % (svc, name, key, path))
            else:
                secrets.add(found[0])
        if len(secrets) > 1:
            problems.append("cowork-%s: the TLS files come from several Secrets %s"
                            % (svc, sorted(secrets)))
        for secret in sorted(secrets):
            cert = certificates.get(secret)
            if cert is None:
                problems.append("cowork-%s: the Secret %s is not made by a cert-manager "
                                "Certificate of the overlay" % (svc, secret))
                continue
            problems += certificate_problems(docs, cert)
            issuers.add(cert["spec"].get("issuerRef", {}).get("name"))
            ns = cert["metadata"].get("namespace") or sts["metadata"].get("namespace") or "default"
            name, pod = "cowork-" + svc, "cowork-%s-0.%s" % (svc, sts["spec"].get("serviceName"))
            wanted = [name, "%s.%s" % (name, ns), "%s.%s.svc" % (name, ns), pod,
                      "%s.%s.svc" % (pod, ns)]
            missing = [n for n in wanted if n not in cert["spec"].get("dnsNames", [])]
            if missing:
                problems.append("Certificate %s: dnsNames lack %s"
                                % (cert["metadata"]["name"], missing))
            if "server auth" not in cert["spec"].get("usages", []):
                problems.append("Certificate %s: usages must include server auth"
                                % cert["metadata"]["name"])
    if production:
        clients = [c for c in objects(docs, "Certificate")
                   if "client auth" in c.get("spec", {}).get("usages", [])
                   and "server auth" not in c["spec"]["usages"]
                   and c["spec"].get("issuerRef", {}).get("name") in issuers]
        if not clients:
            problems.append("no client Certificate (usages: client auth) of the services' CA "
                            "for the frontends")
    return problems


def check_images(docs, facts, overlay):
    problems = []
    for w, c in all_containers(docs):
        image = c.get("image", "")
        where = "%s/%s" % (w["metadata"]["name"], c["name"])
        if DIGEST.search(image):
            continue
        if "@" in image:
            problems.append("%s: image %s: a digest must be @sha256:<64 hex>" % (where, image))
            continue
        if overlay == "prod":
            problems.append("%s: image %s is not pinned by digest" % (where, image))
            continue
        last = image.rsplit("/", 1)[-1]
        if ":" not in last:
            problems.append("%s: image %s has no tag" % (where, image))
        elif last.rsplit(":", 1)[1] == "latest":
            problems.append("%s: image %s uses latest" % (where, image))
    return problems


def check_pods(docs, facts, overlay):
    problems = []
    for w, c in all_containers(docs):
        where = "%s/%s" % (w["metadata"]["name"], c["name"])
        resources = c.get("resources", {})
        for part in ("requests", "limits"):
            for what in ("cpu", "memory"):
                if what not in resources.get(part, {}):
                    problems.append("%s: no %s %s" % (where, what, part[:-1]))
        pod_security = pod_spec(w).get("securityContext", {})
        security = c.get("securityContext", {})
        if not (security.get("runAsNonRoot", pod_security.get("runAsNonRoot"))):
            problems.append("%s: runAsNonRoot must be true" % where)
        if not security.get("readOnlyRootFilesystem") or \
                security.get("allowPrivilegeEscalation", True):
            problems.append("%s: needs readOnlyRootFilesystem and allowPrivilegeEscalation: false"
                            % where)
    return problems


def check_topics(docs, facts, overlay):
    problems = []
    topics = objects(docs, "KafkaTopic")
    clusters = {k["metadata"]["name"] for k in objects(docs, "Kafka")}
    by_name = {}
    for t in topics:
        name = t.get("spec", {}).get("topicName") or t["metadata"]["name"]
        by_name.setdefault(name, []).append(t)
    for topic in sorted(facts.topics):
        found = by_name.get(topic, [])
        if len(found) != 1:
            problems.append("topic %s: %d KafkaTopic resources, expected 1" % (topic, len(found)))
    for name, found in sorted(by_name.items()):
        for t in found:
            spec = t.get("spec", {})
            config = {k: str(v) for k, v in (spec.get("config") or {}).items()}
            if spec.get("replicas") != 3:
                problems.append("topic %s: replicas %s, expected 3" % (name, spec.get("replicas")))
            if not isinstance(spec.get("partitions"), int) or spec["partitions"] < 1:
                problems.append("topic %s: partitions must be set" % name)
            if config.get("min.insync.replicas") != "2":
                problems.append("topic %s: min.insync.replicas must be 2" % name)
            if config.get("retention.ms") != "-1" or config.get("retention.bytes", "-1") != "-1":
                problems.append("topic %s: must keep everything (retention.ms -1, "
                                "retention.bytes -1)" % name)
            if name.endswith(".keys"):
                # The last record of each key is the truth; an erasure's tombstone must go.
                if config.get("cleanup.policy") != "compact":
                    problems.append("topic %s: keys topics are compacted (cleanup.policy "
                                    "compact)" % name)
            elif "compact" in config.get("cleanup.policy", "delete"):
                problems.append("topic %s: compaction would delete events" % name)
            cluster = t["metadata"].get("labels", {}).get("strimzi.io/cluster")
            if clusters and cluster not in clusters:
                problems.append("topic %s: strimzi.io/cluster %r is not the overlay's Kafka %s"
                                % (name, cluster, sorted(clusters)))
    return problems


def check_kafka_cluster(docs, facts, overlay):
    problems = []
    tls_ports = set()
    for kafka in objects(docs, "Kafka"):
        name = kafka["metadata"]["name"]
        spec = kafka.get("spec", {})
        if spec.get("kafka", {}).get("authorization", {}).get("type") != "simple":
            problems.append("Kafka %s: authorization must be simple (ACLs)" % name)
        if "userOperator" not in spec.get("entityOperator", {}):
            problems.append("Kafka %s: no User Operator: the KafkaUsers would never get their "
                            "certificates and ACLs" % name)
        listeners = spec.get("kafka", {}).get("listeners", [])
        if not listeners:
            problems.append("Kafka %s: no listener" % name)
        for l in listeners:
            auth = (l.get("authentication") or {}).get("type")
            if not l.get("tls"):
                problems.append("Kafka %s: listener %s is plain (tls: false)"
                                % (name, l.get("name")))
            if not auth:
                problems.append("Kafka %s: listener %s has no authentication"
                                % (name, l.get("name")))
            if l.get("tls") and auth == "tls":
                tls_ports.add(l.get("port"))
    if objects(docs, "Kafka"):
        for svc, sts, c in service_containers(docs, facts):
            port = port_of(environment(docs, c).get("COWORK_KAFKA_BROKERS", ("", ""))[1])
            if port not in tls_ports:
                problems.append("cowork-%s: COWORK_KAFKA_BROKERS port %s is not a TLS listener "
                                "with client certificates" % (svc, port))
    return problems


def acl_set(user):
    """The user's ACLs as {(allow|deny, resource type, name, patternType, operation)}."""
    acls = set()
    for acl in user.get("spec", {}).get("authorization", {}).get("acls", []) or []:
        resource = acl.get("resource", {})
        kind = resource.get("type")
        name = "" if kind == "cluster" else resource.get("name", "")
        pattern = "literal" if kind == "cluster" else resource.get("patternType", "literal")
        operations = acl.get("operations") or ([acl["operation"]] if acl.get("operation") else [])
        for op in operations:
            acls.add((acl.get("type", "allow"), kind, name, pattern, op))
    return acls


def show(acls):
    return ", ".join("%s %s %s%s" % (op, kind, name, "*" if pattern == "prefix" else "")
                     + ("" if allow == "allow" else " (deny)")
                     for allow, kind, name, pattern, op in sorted(acls)) or "nothing"


def expected_acls(facts, svc):
    own = "cowork.%s.events" % svc
    # Its own topics: written by the relay, read by the relay's tail check and by a restore.
    acls = {("allow", "topic", own, "literal", op) for op in ("Write", "Read", "Describe")}
    if svc in facts.key_keepers:
        acls |= {("allow", "topic", "cowork.%s.keys" % svc, "literal", op)
                 for op in ("Write", "Read", "Describe")}
    acls |= {("allow", "group", svc + ".", "prefix", "Read"),
             ("allow", "cluster", "", "literal", "IdempotentWrite")}
    for topics in facts.consumers.get(svc, {}).values():
        for topic in topics:
            acls |= {("allow", "topic", topic, "literal", "Read"),
                     ("allow", "topic", topic, "literal", "Describe")}
    return acls


def analysts_acls(facts):
    return {("allow", "topic", "cowork.", "prefix", "Read"),
            ("allow", "topic", "cowork.", "prefix", "Describe"),
            ("allow", "group", "cowork.", "prefix", "Read")}


def check_kafka_users(docs, facts, overlay):
    problems = []
    users = {u["metadata"]["name"]: u for u in objects(docs, "KafkaUser")}
    clusters = kafka_clusters(docs)
    wanted = {"cowork-" + svc: expected_acls(facts, svc) for svc in facts.services}
    wanted[ANALYSTS_USER] = analysts_acls(facts)
    if not any(facts.consumers.values()):
        problems.append("found no consumers in the code (services/*, libs/runtime/runtime.cc)")
    for svc, consumers in sorted(facts.consumers.items()):
        for consumer in sorted(consumers):
            if not consumer.startswith(svc + "."):
                problems.append("consumer %r of %s: its group id is not under %s. (the group "
                                "ACL)" % (consumer, svc, svc))
    for name in sorted(set(users) - set(wanted)):
        problems.append("KafkaUser %s: not a user of the suite (add its ACLs to the test)" % name)
    for name, acls in sorted(wanted.items()):
        user = users.get(name)
        if user is None:
            problems.append("KafkaUser %s is missing" % name)
            continue
        spec = user.get("spec", {})
        cluster = user["metadata"].get("labels", {}).get("strimzi.io/cluster")
        if clusters and cluster not in clusters:
            problems.append("KafkaUser %s: strimzi.io/cluster %r is not the overlay's Kafka %s"
                            % (name, cluster, sorted(clusters)))
        if (spec.get("authentication") or {}).get("type") != "tls":
            problems.append("KafkaUser %s: authentication must be tls (client certificate)" % name)
        if (spec.get("authorization") or {}).get("type") != "simple":
            problems.append("KafkaUser %s: authorization must be simple" % name)
        have = acl_set(user)
        if have - acls:
            problems.append("KafkaUser %s may do more than the code needs: %s"
                            % (name, show(have - acls)))
        if acls - have:
            problems.append("KafkaUser %s lacks what the code needs: %s"
                            % (name, show(acls - have)))
        if name == ANALYSTS_USER:
            for allow, kind, res, pattern, op in sorted(have):
                if op not in ("Read", "Describe") or kind not in ("topic", "group"):
                    problems.append("KafkaUser %s must be read-only, may %s %s %s"
                                    % (name, op, kind, res or ""))
            groups = [(res, pattern) for allow, kind, res, pattern, op in have
                      if kind == "group" and op == "Read" and allow == "allow"]
            for group in sorted(facts.tool_groups):
                if not any(group == res or (pattern == "prefix" and group.startswith(res))
                           for res, pattern in groups):
                    problems.append("KafkaUser %s cannot use the tools' group %s" % (name, group))
    # Each pod holds its own user's certificate and nobody else's.
    for w in workloads(docs):
        for secret in sorted(secret_names(w) & set(users)):
            if w["kind"] != "StatefulSet" or w["metadata"]["name"] != secret:
                problems.append("%s %s reads the credentials of the KafkaUser %s"
                                % (w["kind"], w["metadata"]["name"], secret))
    for svc, sts, c in service_containers(docs, facts):
        props = kafka_properties(environment(docs, c))
        for key, value in props:
            if PRODUCER_GUARANTEES.match(key):
                problems.append("cowork-%s: COWORK_KAFKA_PROPERTY overrides %s (the services "
                                "refuse it)" % (svc, key))
        values = dict(props)
        if values.get("security.protocol", "").lower() != "ssl":
            problems.append("cowork-%s: COWORK_KAFKA_PROPERTY needs security.protocol=ssl" % svc)
        cluster = sorted(clusters)[0] if clusters else "cowork"
        for key, secret, item in (("ssl.certificate.location", "cowork-" + svc, "user.crt"),
                                  ("ssl.key.location", "cowork-" + svc, "user.key"),
                                  ("ssl.ca.location", cluster + "-cluster-ca-cert", "ca.crt")):
            path = values.get(key, "")
            if not path or secret_file(sts, c, path) != (secret, item):
                problems.append("cowork-%s: COWORK_KAFKA_PROPERTY %s must be %s of the Secret %s, "
                                "mounted (got %r)" % (svc, key, item, secret, path))
    return problems


def peer_kind(peer):
    """What a NetworkPolicy peer lets in: fellow (cowork pods of the namespace), frontend,
    prometheus, or other."""
    pods, namespaces = peer.get("podSelector"), peer.get("namespaceSelector")
    if "ipBlock" in peer or pods is None or pods.get("matchExpressions"):
        return "other"
    labels = pods.get("matchLabels") or {}
    if namespaces is not None and not (namespaces.get("matchLabels") or
                                       namespaces.get("matchExpressions")):
        return "other"  # every namespace
    if namespaces is None and labels.get(PART_OF[0]) == PART_OF[1]:
        return "fellow"
    if labels.get(FRONTEND[0]) == FRONTEND[1]:
        return "frontend"
    if labels.get(PROMETHEUS[0]) == PROMETHEUS[1]:
        return "prometheus"
    return "other"


def check_network_policies(docs, facts, overlay):
    problems = []
    policies = objects(docs, "NetworkPolicy")
    clusters = kafka_clusters(docs)
    listener_ports = kafka_listener_ports(docs)
    for svc, sts, c in service_containers(docs, facts):
        grpc, metrics = facts.services[svc]
        labels = sts["spec"]["template"]["metadata"].get("labels", {})
        ns = sts["metadata"].get("namespace")
        mine = [p for p in policies if p["metadata"].get("namespace") == ns
                and selects(p.get("spec", {}).get("podSelector"), labels)]
        types = set().union(*[policy_types(p) for p in mine]) if mine else set()
        for kind in ("Ingress", "Egress"):
            if kind not in types:
                problems.append("cowork-%s: no NetworkPolicy isolates it for %s (default deny)"
                                % (svc, kind.lower()))
        reach = {grpc: set(), metrics: set()}
        allowed = {grpc: {"fellow", "frontend"}, metrics: {"prometheus"}}
        for p in mine:
            if "Ingress" not in policy_types(p):
                continue
            where = "NetworkPolicy %s" % p["metadata"]["name"]
            for rule in p["spec"].get("ingress") or []:
                if not rule.get("ports"):
                    problems.append("%s: lets into every port of cowork-%s" % (where, svc))
                    continue
                if not rule.get("from"):
                    problems.append("%s: lets anyone into cowork-%s" % (where, svc))
                    continue
                for port in rule["ports"]:
                    number = port_number(c, port.get("port"))
                    if number not in allowed or port.get("endPort"):
                        problems.append("%s: opens port %s of cowork-%s" % (where, port, svc))
                        continue
                    for peer in rule["from"]:
                        kind = peer_kind(peer)
                        if kind not in allowed[number]:
                            problems.append("%s: lets %s into port %d of cowork-%s"
                                            % (where, peer, number, svc))
                        else:
                            reach[number].add(kind)
        for number, kinds in sorted(allowed.items()):
            for kind in sorted(kinds - reach[number]):
                problems.append("cowork-%s: port %d is closed to the %s pods" % (svc, number, kind))
        dns, kafka, smtp = set(), set(), set()
        for p in mine:
            if "Egress" not in policy_types(p):
                continue
            where = "NetworkPolicy %s" % p["metadata"]["name"]
            for rule in p["spec"].get("egress") or []:
                if not rule.get("ports"):
                    problems.append("%s: lets cowork-%s out to every port" % (where, svc))
                    continue
                for port in rule["ports"]:
                    number, protocol = port_number(c, port.get("port")), port.get("protocol", "TCP")
                    if port.get("endPort"):
                        problems.append("%s: lets cowork-%s out to a port range" % (where, svc))
                    elif number == DNS_PORT:
                        dns.add(protocol)
                    elif number in listener_ports and protocol == "TCP":
                        peers = rule.get("to") or [{}]
                        for peer in peers:
                            pods = peer.get("podSelector") or {}
                            if "ipBlock" in peer or "namespaceSelector" in peer or \
                                    (pods.get("matchLabels") or {}).get("strimzi.io/cluster") \
                                    not in clusters:
                                problems.append("%s: lets cowork-%s out to port %d of %s, not "
                                                "only the Kafka brokers"
                                                % (where, svc, number, peer))
                                break
                        else:
                            kafka.add(number)
                    elif number in SMTP_PORTS and protocol == "TCP" and svc in facts.smtp_services:
                        smtp.add(number)
                    else:
                        problems.append("%s: lets cowork-%s out to port %s/%s"
                                        % (where, svc, number, protocol))
        if dns != {"UDP", "TCP"}:
            problems.append("cowork-%s: DNS (53, UDP and TCP) must be let out, got %s"
                            % (svc, sorted(dns)))
        broker = port_of(environment(docs, c).get("COWORK_KAFKA_BROKERS", ("", ""))[1])
        if clusters and broker not in kafka:
            problems.append("cowork-%s: the Kafka brokers' port %s is not let out" % (svc, broker))
        if svc in facts.smtp_services and smtp != set(SMTP_PORTS):
            problems.append("cowork-%s: SMTP %s must be let out, got %s"
                            % (svc, list(SMTP_PORTS), sorted(smtp)))
    return problems


RULES = [check_services_present, check_ports, check_probes, check_termination,
         check_data_volume, check_configuration, check_no_plain_secrets, check_token_keys,
         check_grpc_tls, check_images, check_pods, check_topics, check_kafka_cluster,
         check_kafka_users, check_network_policies]


def check_overlay(docs, facts, overlay):
    problems = []
    for rule in RULES:
        problems += rule(docs, facts, overlay)
    return problems


def check_topic_definitions():
    """KafkaTopic and KafkaUser resources are written once, in deploy/kafka/."""
    problems = []
    for kind, home in (("KafkaTopic", "deploy/kafka/topics.yaml"),
                       ("KafkaUser", "deploy/kafka/users.yaml")):
        files = []
        for path in glob.glob(os.path.join(DEPLOY, "**", "*.yaml"), recursive=True):
            if re.search(r"^kind:\s*%s\s*$" % kind, read(path), re.M):
                files.append(os.path.relpath(path, ROOT))
        if files != [home]:
            problems.append("%s resources must live in %s only, found in %s" % (kind, home, files))
    return problems


def check_monitoring(docs, facts):
    problems = []
    rules = [r for pr in objects(docs, "PrometheusRule")
             for g in pr["spec"]["groups"] for r in g["rules"]]
    if not rules:
        problems.append("deploy/monitoring: no alert rules")
    for rule in rules:
        for metric in re.findall(r"\bcowork_[a-z0-9_]+", rule.get("expr", "")):
            base = re.sub(r"_(bucket|sum|count)$", "", metric)
            if metric not in facts.metrics and base not in facts.metrics:
                problems.append("alert %s: %s is not a metric the services export"
                                % (rule.get("alert"), metric))
    return problems


# ---------------------------------------------------------------- self-check

def statefulset(docs, svc):
    return named(docs, "StatefulSet", "cowork-" + svc)


def container_of(docs, svc):
    return service_container(statefulset(docs, svc), svc)


def set_env(docs, svc, name, value):
    c = container_of(docs, svc)
    c["env"] = [e for e in c.get("env", []) if e["name"] != name] + [{"name": name, "value": value}]


def drop_env(docs, svc, name):
    c = container_of(docs, svc)
    c["env"] = [e for e in c.get("env", []) if e["name"] != name]


def config(docs):
    return objects(docs, "ConfigMap")[0]["data"]


def remove(docs, kind, name):
    docs[:] = [d for d in docs if not (d.get("kind") == kind and d["metadata"]["name"] == name)]


def first_topic(docs):
    return objects(docs, "KafkaTopic")[0]


def first_kafka(docs):
    return objects(docs, "Kafka")[0]["spec"]


def volume(docs, svc, name):
    for v in pod_spec(statefulset(docs, svc))["volumes"]:
        if v["name"] == name:
            return v
    raise KeyError(name)


def acls(docs, user):
    return named(docs, "KafkaUser", user)["spec"]["authorization"]["acls"]


def drop_acl(docs, user, kind, operation):
    """Removes the first ACL of that resource type that allows that operation."""
    entries = acls(docs, user)
    for i, acl in enumerate(entries):
        if acl["resource"]["type"] == kind and operation in acl.get("operations", []):
            del entries[i]
            return
    raise KeyError((user, kind, operation))


def add_volume(docs, svc, volume_spec, mount_path):
    pod_spec(statefulset(docs, svc))["volumes"].append(volume_spec)
    container_of(docs, svc)["volumeMounts"].append(
        {"name": volume_spec["name"], "mountPath": mount_path, "readOnly": True})


def ingress_policy(docs, svc):
    return named(docs, "NetworkPolicy", "cowork-%s-ingress" % svc)["spec"]


def egress_policy(docs):
    return named(docs, "NetworkPolicy", "cowork-egress")["spec"]


def egress_rule(docs, port):
    for rule in egress_policy(docs)["egress"]:
        if any(p.get("port") == port for p in rule.get("ports", [])):
            return rule
    raise KeyError(port)


def breakages(svc, port, metrics, overlay):
    """(what, rule, mutation): each mutation violates exactly what `what` says. svc is not the
    service that signs sessions nor the one that sends emails (self_check picks it)."""
    other = port + 1000
    user = "cowork-" + svc
    frontend_peer = {"podSelector": {"matchLabels": dict([FRONTEND])}}
    found = [
        ("a service missing", check_services_present,
         lambda d: remove(d, "StatefulSet", "cowork-" + svc)),
        ("two replicas", check_services_present,
         lambda d: statefulset(d, svc)["spec"].update(replicas=2)),
        ("no PodDisruptionBudget", check_services_present,
         lambda d: remove(d, "PodDisruptionBudget", "cowork-" + svc)),
        ("gRPC on loopback", check_ports,
         lambda d: set_env(d, svc, "COWORK_LISTEN", "127.0.0.1:%d" % port)),
        ("scrape annotation on the wrong port", check_ports,
         lambda d: statefulset(d, svc)["spec"]["template"]["metadata"]["annotations"]
         .update({"prometheus.io/port": "1"})),
        ("readiness probe on the gRPC port", check_probes,
         lambda d: container_of(d, svc)["readinessProbe"]["httpGet"].update(port=port)),
        ("liveness probe over gRPC", check_probes,
         lambda d: container_of(d, svc).update(livenessProbe={"grpc": {"port": port}})),
        ("startup probe on another path", check_probes,
         lambda d: container_of(d, svc)["startupProbe"]["httpGet"].update(path="/metrics")),
        ("no readiness probe", check_probes,
         lambda d: container_of(d, svc).pop("readinessProbe")),
        ("grace period shorter than the drain", check_termination,
         lambda d: pod_spec(statefulset(d, svc)).update(terminationGracePeriodSeconds=10)),
        ("drain longer than the grace period", check_termination,
         lambda d: set_env(d, svc, "COWORK_DRAIN_SECONDS", "600")),
        ("data dir off the volume", check_data_volume,
         lambda d: set_env(d, svc, "COWORK_DATA_DIR", "/srv/" + svc)),
        ("no volumeClaimTemplate", check_data_volume,
         lambda d: statefulset(d, svc)["spec"].update(volumeClaimTemplates=[])),
        ("no ConfigMap", check_configuration,
         lambda d: [remove(d, "ConfigMap", cm["metadata"]["name"])
                    for cm in objects(d, "ConfigMap")]),
        ("a misspelt variable", check_configuration,
         lambda d: set_env(d, svc, "COWORK_KAFKA_BROKER", "kafka:9092")),
        ("a Secret with its value", check_no_plain_secrets,
         lambda d: d.append({"apiVersion": "v1", "kind": "Secret",
                             "metadata": {"name": "cowork-tokens"},
                             "stringData": {"session-token-secret": "x" * 40}})),
        ("a token secret in plain text", check_no_plain_secrets,
         lambda d: set_env(d, svc, "COWORK_SESSION_TOKEN_SECRET", "x" * 40)),
        ("a retired HS256 secret from a Secret", check_no_plain_secrets,
         lambda d: container_of(d, svc)["env"].append(
             {"name": "COWORK_ADMIN_TOKEN_SECRET",
              "valueFrom": {"secretKeyRef": {"name": "cowork-tokens", "key": "admin"}}})),
        ("a SASL password in the ConfigMap", check_no_plain_secrets,
         lambda d: config(d).update(
             COWORK_KAFKA_PROPERTY="sasl.mechanism=PLAIN;sasl.password=hunter2")),
        ("a private key in an annotation", check_no_plain_secrets,
         lambda d: statefulset(d, svc)["metadata"].setdefault("annotations", {}).update(
             {"example.com/key": "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n"
                                 "-----END EC PRIVATE KEY-----\n"})),
        ("the session signing key mounted in another service", check_token_keys,
         lambda d: add_volume(d, svc, {"name": "signing", "secret": {
             "secretName": SIGNING_SECRET[0]}}, "/etc/cowork/session-signing")),
        ("the signing key's path in the ConfigMap", check_token_keys,
         lambda d: config(d).update({SIGNING_VAR: "/etc/cowork/session-signing/key.pem"})),
        ("latest", check_images,
         lambda d: container_of(d, svc).update(image="registry.example.com/cowork:latest")),
        ("no tag", check_images,
         lambda d: container_of(d, svc).update(image="registry.example.com:5000/cowork")),
        ("no memory limit", check_pods,
         lambda d: container_of(d, svc)["resources"]["limits"].pop("memory")),
        ("running as root", check_pods,
         lambda d: [pod_spec(statefulset(d, svc))["securityContext"].update(runAsNonRoot=False),
                    container_of(d, svc).setdefault("securityContext", {})
                    .update(runAsNonRoot=False)]),
        ("a topic missing", check_topics,
         lambda d: remove(d, "KafkaTopic", "cowork.%s.events" % svc)),
        ("replication 1", check_topics,
         lambda d: first_topic(d)["spec"].update(replicas=1)),
        ("min.insync.replicas 1", check_topics,
         lambda d: first_topic(d)["spec"]["config"].update({"min.insync.replicas": "1"})),
        ("deletion by age", check_topics,
         lambda d: first_topic(d)["spec"]["config"].update({"retention.ms": "604800000"})),
        ("a topic of another cluster", check_topics,
         lambda d: first_topic(d)["metadata"]["labels"].update({"strimzi.io/cluster": "x"})),
        ("a plain listener", check_kafka_cluster,
         lambda d: first_kafka(d)["kafka"]["listeners"].append(
             {"name": "plain", "port": 9092, "type": "internal", "tls": False})),
        ("a listener without authentication", check_kafka_cluster,
         lambda d: first_kafka(d)["kafka"]["listeners"][0].pop("authentication")),
        ("no authorization", check_kafka_cluster,
         lambda d: first_kafka(d)["kafka"].pop("authorization")),
        ("no User Operator", check_kafka_cluster,
         lambda d: first_kafka(d)["entityOperator"].pop("userOperator")),
        ("a service without its KafkaUser", check_kafka_users,
         lambda d: remove(d, "KafkaUser", user)),
        ("a user with a password", check_kafka_users,
         lambda d: named(d, "KafkaUser", user)["spec"].update(
             authentication={"type": "scram-sha-512"})),
        ("writing another service's topic", check_kafka_users,
         lambda d: acls(d, user).append({"resource": {"type": "topic", "name":
                                                      "cowork.customers.events"},
                                         "operations": ["Write"]})),
        ("a consumed topic not readable", check_kafka_users,
         lambda d: drop_acl(d, user, "topic", "Read")),
        ("every group readable", check_kafka_users,
         lambda d: [a["resource"].update(name="*", patternType="literal")
                    for a in acls(d, user) if a["resource"]["type"] == "group"]),
        ("no IdempotentWrite", check_kafka_users,
         lambda d: drop_acl(d, user, "cluster", "IdempotentWrite")),
        ("analysts who may write", check_kafka_users,
         lambda d: acls(d, ANALYSTS_USER).append(
             {"resource": {"type": "topic", "name": "cowork.", "patternType": "prefix"},
              "operations": ["Write"]})),
        ("an unknown KafkaUser", check_kafka_users,
         lambda d: d.append(dict(copy.deepcopy(named(d, "KafkaUser", ANALYSTS_USER)),
                                 metadata={"name": "someone", "labels": {
                                     "strimzi.io/cluster": "cowork"}}))),
        ("another service's Kafka credentials", check_kafka_users,
         lambda d: volume(d, svc, "kafka-user")["secret"].update(secretName="cowork-customers")),
        ("the analysts' credentials in a pod", check_kafka_users,
         lambda d: add_volume(d, svc, {"name": "analysts", "secret": {
             "secretName": ANALYSTS_USER}}, "/etc/cowork/analysts")),
        ("acks overridden", check_kafka_users,
         lambda d: config(d).update(COWORK_KAFKA_PROPERTY=config(d)["COWORK_KAFKA_PROPERTY"]
                                    + ";acks=1")),
        ("Kafka without TLS", check_kafka_users,
         lambda d: config(d).update(COWORK_KAFKA_PROPERTY=config(d)["COWORK_KAFKA_PROPERTY"]
                                    .replace("security.protocol=ssl",
                                             "security.protocol=plaintext"))),
        ("no NetworkPolicy", check_network_policies,
         lambda d: [remove(d, "NetworkPolicy", p["metadata"]["name"])
                    for p in objects(d, "NetworkPolicy")]),
        ("gRPC open to every pod", check_network_policies,
         lambda d: ingress_policy(d, svc)["ingress"][0]["from"].append({"podSelector": {}})),
        ("gRPC open to every namespace", check_network_policies,
         lambda d: ingress_policy(d, svc)["ingress"][0]["from"].append(
             {"namespaceSelector": {}, "podSelector": {"matchLabels": dict([FRONTEND])}})),
        ("gRPC closed to the frontends", check_network_policies,
         lambda d: ingress_policy(d, svc)["ingress"][0].update(
             {"from": [p for p in ingress_policy(d, svc)["ingress"][0]["from"]
                       if peer_kind(p) != "frontend"]})),
        ("metrics open to the frontends", check_network_policies,
         lambda d: ingress_policy(d, svc)["ingress"][1]["from"].append(frontend_peer)),
        ("another port open", check_network_policies,
         lambda d: ingress_policy(d, svc)["ingress"].append(
             {"from": [frontend_peer], "ports": [{"port": 8080}]})),
        ("egress anywhere", check_network_policies,
         lambda d: egress_policy(d)["egress"].append({})),
        ("no DNS", check_network_policies,
         lambda d: egress_policy(d)["egress"].remove(egress_rule(d, DNS_PORT))),
        ("Kafka's port open to every pod", check_network_policies,
         lambda d: egress_rule(d, 9093).update(to=[{"podSelector": {}}])),
        ("SMTP for a service that sends no email", check_network_policies,
         lambda d: d.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                             "metadata": {"name": "smtp",
                                          "namespace": statefulset(d, svc)["metadata"].get(
                                              "namespace")},
                             "spec": {"podSelector": {"matchLabels": {
                                 "app.kubernetes.io/name": "cowork-" + svc}},
                                 "policyTypes": ["Egress"],
                                 "egress": [{"ports": [{"port": 587}]}]}})),
    ]
    if overlay == "dev":
        found += [
            ("a key file in dev mode", check_token_keys,
             lambda d: config(d).update(COWORK_ADMIN_PUBLIC_KEY_FILE="/etc/cowork/admin.pem")),
            ("TLS in dev mode", check_grpc_tls,
             lambda d: set_env(d, svc, "COWORK_TLS_CERT_FILE", "/etc/cowork/tls/tls.crt")),
        ]
    else:
        found += [
            ("no session public key", check_token_keys,
             lambda d: config(d).pop("COWORK_SESSION_PUBLIC_KEY_FILE")),
            ("the public keys from another Secret", check_token_keys,
             lambda d: volume(d, svc, "tokens")["secret"].update(secretName="cowork-other")),
            ("no signing key in the signing service", check_token_keys,
             lambda d: drop_env(d, SIGNING_SERVICE, SIGNING_VAR)),
            ("no client CA", check_grpc_tls,
             lambda d: config(d).pop("COWORK_TLS_CLIENT_CA_FILE")),
            ("reflection on", check_grpc_tls,
             lambda d: set_env(d, svc, "COWORK_REFLECTION", "true")),
            ("a certificate no Certificate makes", check_grpc_tls,
             lambda d: volume(d, svc, "tls")["secret"].update(secretName="hand-made-tls")),
            ("dnsNames without the pod's name", check_grpc_tls,
             lambda d: [c["spec"].update(dnsNames=[n for n in c["spec"]["dnsNames"]
                                                   if "-0." not in n])
                        for c in objects(d, "Certificate") if c["spec"].get("dnsNames")]),
            ("a certificate from the self-signed issuer", check_grpc_tls,
             lambda d: [c["spec"]["issuerRef"].update(name=c2["spec"]["issuerRef"]["name"])
                        for c2 in objects(d, "Certificate") if c2["spec"].get("isCA")
                        for c in objects(d, "Certificate") if not c["spec"].get("isCA")]),
            ("no client certificate for the frontends", check_grpc_tls,
             lambda d: [remove(d, "Certificate", c["metadata"]["name"])
                        for c in objects(d, "Certificate")
                        if "server auth" not in c["spec"].get("usages", ["server auth"])]),
        ]
    return found


def self_check(rendered, facts):
    """Every rule must see its breakage in every overlay (a problem it did not report on the
    unbroken overlay); returns the breakages that went unnoticed, and how many were tried."""
    problems = []
    tried = 0
    # Not the signing service nor the one sending emails: their breakages differ.
    svc = sorted(set(facts.services) - {SIGNING_SERVICE} - facts.smtp_services)[0]
    port, metrics = facts.services[svc]
    for overlay, docs in sorted(rendered.items()):
        for what, rule, mutate in breakages(svc, port, metrics, overlay):
            tried += 1
            broken = copy.deepcopy(docs)
            try:
                mutate(broken)
            except (KeyError, IndexError, TypeError, AttributeError) as e:
                problems.append("%s: the breakage %r cannot be made (%r): update the self-check"
                                % (overlay, what, e))
                continue
            if not set(rule(broken, facts, overlay)) - set(rule(docs, facts, overlay)):
                problems.append("%s: %s broken with %s went unnoticed"
                                % (overlay, rule.__name__, what))
    if "prod" in rendered:
        tried += 1
        broken = copy.deepcopy(rendered["prod"])
        container_of(broken, svc).update(image="registry.example.com/cowork:1.2.3")
        if not check_images(broken, facts, "prod"):
            problems.append("prod: check_images accepted a tag instead of a digest")
    # The dev keys of libs/auth (PEM text in the code once tokens are ES256).
    for overlay, docs in sorted(rendered.items()):
        for line in facts.dev_key_lines[:1]:
            tried += 1
            broken = copy.deepcopy(docs)
            config(broken).update(COWORK_EXAMPLE=line)
            if not set(check_no_plain_secrets(broken, facts, overlay)) - \
                    set(check_no_plain_secrets(docs, facts, overlay)):
                problems.append("%s: check_no_plain_secrets missed a dev key of libs/auth"
                                % overlay)
    return problems, tried


# ---------------------------------------------------------------- main

def main():
    facts = Facts()
    failures = []
    if not facts.services:
        failures.append("no services found in services/*/main.cc")
    command = kustomize_command()
    if command is None:
        print("FAIL: neither kubectl nor kustomize found (tools/install-deps installs "
              "kubernetes-client)")
        return 1
    print("rendering with: %s" % " ".join(command))

    overlays = sorted(os.path.basename(os.path.dirname(p)) for p in
                      glob.glob(os.path.join(DEPLOY, "overlays", "*", "kustomization.yaml")))
    for required in ("dev", "prod"):
        if required not in overlays:
            failures.append("deploy/overlays/%s is missing" % required)
    rendered = {}
    checks = 0
    for overlay in overlays:
        try:
            docs = render(command, os.path.join(DEPLOY, "overlays", overlay))
        except RuntimeError as e:
            failures.append(str(e))
            continue
        rendered[overlay] = docs
        for rule in RULES:
            checks += 1
            found = rule(docs, facts, overlay)
            print("%-6s %-24s %s" % (overlay, rule.__name__, "ok" if not found else "FAILED"))
            failures += ["%s: %s" % (overlay, p) for p in found]

    checks += 2
    failures += check_topic_definitions()
    try:
        failures += check_monitoring(render(command, os.path.join(DEPLOY, "monitoring")), facts)
    except RuntimeError as e:
        failures.append(str(e))

    unnoticed, tried = self_check(rendered, facts)
    failures += unnoticed
    print("self-check: %d breakages over %d overlays, %d unnoticed"
          % (tried, len(rendered), len(unnoticed)))

    for f in failures:
        print("FAIL: " + f)
    print("deploy manifests: %d checks over %d overlays, %d problems"
          % (checks, len(rendered), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
