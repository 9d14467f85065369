"""A/B in one process: the protocol core of another checkout against this one's, the same
routes, interleaved repetitions (the runtime uses relative imports only, so another copy loads
under another package name):

    python -m benchmarks.ab /path/to/other/checkout/runtime
"""
import sys, json, timeit, statistics
from benchmarks.harness import load_runtime
old = load_runtime("mainrt", sys.argv[1])
from ocppgen.generated.runtime import protocol as new
from benchmarks.messages import CALLS, RESPONSES, frame
from benchmarks import codec
rows = []
for name, version, action, payload in CALLS:
    routing, csms = codec.MODULES[version]
    text = frame("19223201", action, payload)
    route = routing.ROUTES[action]
    resp = route.response_codec.decode(json.dumps(RESPONSES[(version, action)]))
    fns = {}
    for tag, mod in (("main", old), ("perf", new)):
        Role = sys.modules[mod.__name__.rsplit(".", 1)[0] + ".routing"].Role
        p = mod.OcppProtocol(version=version, role=Role.CSMS, routes=routing.ROUTES, handled=csms.HANDLED)
        def recv(p=p):
            p.receive(text, 0.0); p._inbound.clear()
        def respond(p=p):
            p._inbound["19223201"] = (action, None, 0.0); p.respond("19223201", resp); p.data_to_send()
        recv(); respond()
        fns[f"{tag}_recv"], fns[f"{tag}_respond"] = recv, respond
    samples = {k: [] for k in fns}
    for _ in range(7):
        for k, fn in fns.items():
            samples[k].append(timeit.timeit(fn, number=5000) / 5000 * 1e6)
    m = {k: statistics.median(v) for k, v in samples.items()}
    rows.append(f"| {name} | {m['main_recv']:.2f} | {m['perf_recv']:.2f} | {m['perf_recv']/m['main_recv']:.2f}x | {m['main_respond']:.2f} | {m['perf_respond']:.2f} | {m['perf_respond']/m['main_respond']:.2f}x |")
print("| message | main receive (us) | perf receive | perf / main | main respond (us) | perf respond | perf / main |")
print("|---|---|---|---|---|---|---|")
print("\n".join(rows))
