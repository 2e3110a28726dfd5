#!/usr/bin/env python3
"""Generates large and hostile topologies for the loader's benchmarks.

    python3 bench/gen.py nodes 10000 > /tmp/n10k.ron     # N nodes (linear scaling)
    python3 bench/gen.py nodes 10000 4000000 > /tmp/n10k-4mb.ron   # the same, padded to 4 MB
    python3 bench/gen.py balancer > /tmp/lb.ron          # 1 MiB: one backend listed 260k times
    python3 bench/gen.py unknown 10000 > /tmp/unk.ron    # N nodes routing to targets that are not nodes
    python3 bench/gen.py regions 3000 > /tmp/reg.ron     # N regions without links

The tests in tests/it/hostile.rs craft the same shapes in Rust; this script
is for measuring by hand (see BENCHMARKS.md, "Hostile input").
"""

import sys


def nodes(n, size=0):
    """N nodes in groups of 100: a source, a balancer over 98 app stations,
    each sending a fifth of its requests on to the group's database. With
    `size`, each node's line is padded with a comment to make the file
    about `size` bytes."""
    groups = max(1, n // 100)
    out = ["Topology(", '    name: "%d nodes",' % n, "    sources: ["]
    for g in range(groups):
        out.append(
            '        Source(id: "users-%d", to: "lb-%d", arrivals: Poisson(rps: 10.0)),' % (g, g)
        )
    out.append("    ],")
    out.append("    nodes: [")
    for g in range(groups):
        apps = ['"app-%d-%d"' % (g, i) for i in range(98)]
        out.append(
            '        LoadBalancer(id: "lb-%d", policy: RoundRobin, to: [%s]),' % (g, ", ".join(apps))
        )
        for i in range(98):
            out.append(
                '        Station(id: "app-%d-%d", servers: 4, service: Exponential(mean: "5ms"), '
                'routes: [Route(to: "db-%d", p: 0.2)]),' % (g, i, g)
            )
        out.append('        Station(id: "db-%d", servers: 2, service: Exponential(mean: "2ms")),' % g)
    out.append("    ],")
    out.append(")")
    text = "\n".join(out) + "\n"
    if size > len(text):
        pad = (size - len(text)) // n
        text = text.replace("),\n", "), //" + "." * max(pad - 4, 0) + "\n")
    return text


def balancer(size=1 << 20):
    """A balancer that lists the same backend until the file is `size` bytes."""
    head = (
        'Topology(name: "lb", sources: [Source(id: "u", to: "lb", arrivals: Poisson(rps: 1.0))],\n'
        'nodes: [Station(id: "a", servers: 1, service: Constant("1ms")),\n'
        'LoadBalancer(id: "lb", to: ['
    )
    tail = "])])\n"
    item = '"a",'
    count = (size - len(head) - len(tail)) // len(item)
    return head + item * count + tail


def unknown(n):
    """N stations, each routing to a target that is not a node."""
    out = ['Topology(name: "unknown", sources: [Source(id: "u", to: "n0", arrivals: Poisson(rps: 1.0))], nodes: [']
    for i in range(n):
        out.append(
            'Station(id: "n%d", servers: 1, service: Constant("1ms"), routes: [Route(to: "x%d", p: 0.5)]),' % (i, i)
        )
    out.append("])")
    return "\n".join(out) + "\n"


def regions(n):
    """N regions of one node each, and no links."""
    out = ['Topology(name: "regions", sources: [Source(id: "u", to: "n0", arrivals: Poisson(rps: 1.0))], nodes: [']
    for i in range(n):
        out.append('Station(id: "n%d", servers: 1, service: Constant("1ms")),' % i)
    out.append("], regions: [")
    for i in range(n):
        out.append('Region(id: "r%d", nodes: ["n%d"]),' % (i, i))
    out.append("])")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    what, args = sys.argv[1], [int(a) for a in sys.argv[2:]]
    gen = {"nodes": nodes, "balancer": balancer, "unknown": unknown, "regions": regions}.get(what)
    if gen is None:
        sys.exit(__doc__)
    sys.stdout.write(gen(*args))


if __name__ == "__main__":
    main()
