#!/usr/bin/env python3
"""Renders every kustomize overlay under deploy/ and checks what must hold in each.

    tests/deploy_manifests_test.py [REPO_ROOT]

The rules (each a function below, each returning the problems it finds):
  - every service of the code (services/*/main.cc: name, gRPC port, metrics port) has its
    StatefulSet (one replica, its own binary), its Service, its PodDisruptionBudget;
  - the services listen on all interfaces at the ports of the code, and the Prometheus
    annotations name the metrics port;
  - readiness, liveness (and start-up) probes are gRPC probes on the gRPC port, which serves
    the health service; no other kind of probe;
  - terminationGracePeriodSeconds is well above the drain (COWORK_DRAIN_SECONDS);
  - COWORK_DATA_DIR lies on a volume from a volumeClaimTemplate (not the image, not emptyDir);
  - configuration comes from a ConfigMap present in the overlay, and every COWORK_* variable
    is one the code reads;
  - no secret value in plain text: no Secret with data, token secrets only from secretKeyRef,
    no secret-looking key or value in a ConfigMap or an env value, not the dev secrets;
  - images pinned: a tag that is not `latest`, or a digest; digests only in prod;
  - requests and limits for CPU and memory; non-root, read-only root filesystem;
  - every topic of the code (cowork.<service>.events and the dev broker's list) is one
    KafkaTopic with replication 3, min.insync.replicas=2, no deletion by age or size, of the
    Kafka cluster the overlay defines; KafkaTopic defined in one file only;
  - deploy/monitoring renders and its alerts use only metrics the code exports.
A self-check then breaks a rendered overlay in one way per rule and makes sure the rule sees
it: a rule that cannot fail is worse than none.

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

# The drain a service uses when COWORK_DRAIN_SECONDS is not set (libs/server/server.h), and
# how much longer than the drain the grace period must be: consumers, relay and store close.
DEFAULT_DRAIN_SECONDS = 10
GRACE_MARGIN_SECONDS = 10

SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|PRIVATE|(^|_)KEY$", re.I)
SECRET_VALUE = re.compile(
    r"(password|passwd|secret|sasl\.password|ssl\.key\.password)\s*[=:]"  # key=value inside
    r"|://[^/\s:@]+:[^/\s@]+@"                                              # user:pass@host
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----", re.I)
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


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


def code_topics(services):
    topics = {"cowork.%s.events" % s for s in services}
    devbroker = os.path.join(ROOT, "tools/devbroker/main.cc")
    if os.path.exists(devbroker):
        topics.update(re.findall(r'"(cowork\.[a-z0-9_]+\.events)"', read(devbroker)))
    return topics


class Facts:
    def __init__(self):
        self.services = code_services()
        self.env_vars = code_env_vars()
        self.metrics = code_metrics()
        self.dev_secrets = code_dev_secrets()
        self.topics = code_topics(self.services)


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
        port = facts.services[svc][0]
        for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
            probe = c.get(kind)
            if probe is None:
                if kind != "startupProbe":
                    problems.append("cowork-%s: no %s" % (svc, kind))
                continue
            grpc = probe.get("grpc")
            if not grpc or grpc.get("port") != port or grpc.get("service", "") != "":
                problems.append("cowork-%s: %s must be a gRPC health probe on port %d, got %s"
                                % (svc, kind, port, probe))
            others = set(probe) & {"httpGet", "tcpSocket", "exec"}
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
    for w, c in all_containers(docs):
        for e in c.get("env", []):
            if "value" not in e:
                continue
            if (SECRET_NAME.search(e["name"]) and not e["name"].endswith("_FILE")) or \
                    SECRET_VALUE.search(str(e["value"])):
                problems.append("%s/%s: %s is set in plain text; use a secretKeyRef"
                                % (w["metadata"]["name"], c["name"], e["name"]))
    for svc, sts, c in service_containers(docs, facts):
        env = environment(docs, c)
        for name in ("COWORK_ADMIN_TOKEN_SECRET", "COWORK_SESSION_TOKEN_SECRET"):
            if env.get(name, ("",))[0] != "secret":
                problems.append("cowork-%s: %s must come from a Secret (secretKeyRef)" % (svc, name))
    text = yaml.safe_dump_all(docs)
    for secret in facts.dev_secrets:
        if secret in text:
            problems.append("the dev secret %s... appears in the manifests" % secret[:12])
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
            if "compact" in config.get("cleanup.policy", "delete"):
                problems.append("topic %s: compaction would delete events" % name)
            cluster = t["metadata"].get("labels", {}).get("strimzi.io/cluster")
            if clusters and cluster not in clusters:
                problems.append("topic %s: strimzi.io/cluster %r is not the overlay's Kafka %s"
                                % (name, cluster, sorted(clusters)))
    return problems


RULES = [check_services_present, check_ports, check_probes, check_termination,
         check_data_volume, check_configuration, check_no_plain_secrets, check_images,
         check_pods, check_topics]


def check_overlay(docs, facts, overlay):
    problems = []
    for rule in RULES:
        problems += rule(docs, facts, overlay)
    return problems


def check_topic_definitions():
    """KafkaTopic resources are written once, in deploy/kafka/topics.yaml."""
    files = []
    for path in glob.glob(os.path.join(DEPLOY, "**", "*.yaml"), recursive=True):
        if re.search(r"^kind:\s*KafkaTopic\s*$", read(path), re.M):
            files.append(os.path.relpath(path, ROOT))
    if files != ["deploy/kafka/topics.yaml"]:
        return ["KafkaTopic resources must live in deploy/kafka/topics.yaml only, found in %s"
                % files]
    return []


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


def remove(docs, kind, name):
    docs[:] = [d for d in docs if not (d.get("kind") == kind and d["metadata"]["name"] == name)]


def first_topic(docs):
    return objects(docs, "KafkaTopic")[0]


def breakages(svc, port):
    """(what, rule, mutation): each mutation violates exactly what `what` says."""
    other = port + 1000
    return [
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
        ("readiness probe on another port", check_probes,
         lambda d: container_of(d, svc)["readinessProbe"].update(grpc={"port": other})),
        ("liveness probe over HTTP", check_probes,
         lambda d: container_of(d, svc).update(livenessProbe={"httpGet": {"path": "/healthz",
                                                                          "port": 9101}})),
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
        ("a SASL password in the ConfigMap", check_no_plain_secrets,
         lambda d: objects(d, "ConfigMap")[0]["data"].update(
             COWORK_KAFKA_PROPERTY="sasl.mechanism=PLAIN;sasl.password=hunter2")),
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
    ]


def self_check(rendered, facts):
    """Every rule must see its breakage in every overlay; returns the rules that did not."""
    problems = []
    svc = sorted(facts.services)[0]
    port = facts.services[svc][0]
    for overlay, docs in sorted(rendered.items()):
        for what, rule, mutate in breakages(svc, port):
            broken = copy.deepcopy(docs)
            mutate(broken)
            if not rule(broken, facts, overlay):
                problems.append("%s: %s broken with %s went unnoticed"
                                % (overlay, rule.__name__, what))
    if "prod" in rendered:
        broken = copy.deepcopy(rendered["prod"])
        container_of(broken, svc).update(image="registry.example.com/cowork:1.2.3")
        if not check_images(broken, facts, "prod"):
            problems.append("prod: check_images accepted a tag instead of a digest")
    return problems


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

    unnoticed = self_check(rendered, facts)
    failures += unnoticed
    print("self-check: %d breakages per overlay, %d unnoticed"
          % (len(breakages("x", 1)) + 1, len(unnoticed)))

    for f in failures:
        print("FAIL: " + f)
    print("deploy manifests: %d checks over %d overlays, %d problems"
          % (checks, len(rendered), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
