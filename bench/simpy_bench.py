"""The same workloads as `bottleneck bench`, written in SimPy, for comparison.

W1: M/M/1 at rho 0.9 (900 rps, exponential 1 ms service) for 1,111.1 s,
    about 1,000,000 requests.
W3: 1000 rps -> LB (1 server, exp 0.05 ms) -> app (12 servers, lognormal
    mean 10 ms sd 5 ms) -> cache (1 server, exp 0.2 ms; 90% leave) -> DB
    (4 servers, exp 5 ms), 1000 simulated seconds.

Each request is a SimPy process that requests a Resource per station; every
scheduled event (timeouts, resource grants, process starts) is counted by
wrapping Environment.step, so "events per second" means the same thing as
in Bottleneck: entries taken off the future event list.

Usage: python3 bench/simpy_bench.py [w1|w3|all]   (pip install simpy)
"""

import math
import random
import sys
import time

import simpy


class CountingEnv(simpy.Environment):
    def __init__(self):
        super().__init__()
        self.events = 0

    def step(self):
        self.events += 1
        return super().step()


def lognormal_params(mean, sd):
    sigma2 = math.log1p((sd / mean) ** 2)
    return math.log(mean) - sigma2 / 2, math.sqrt(sigma2)


def w1(rng):
    env = CountingEnv()
    server = simpy.Resource(env, capacity=1)
    lam, mean_s = 900.0, 0.001
    done = [0]
    latencies = []

    def request(env):
        born = env.now
        with server.request() as req:
            yield req
            yield env.timeout(rng.expovariate(1.0 / mean_s))
        latencies.append(env.now - born)
        done[0] += 1

    def source(env):
        while True:
            yield env.timeout(rng.expovariate(lam))
            env.process(request(env))

    env.process(source(env))
    env.run(until=1111.111)
    return env.events, done[0], sum(latencies) / len(latencies)


def w3(rng):
    env = CountingEnv()
    lb = simpy.Resource(env, capacity=1)
    app = simpy.Resource(env, capacity=12)
    cache = simpy.Resource(env, capacity=1)
    db = simpy.Resource(env, capacity=4)
    mu, sigma = lognormal_params(0.010, 0.005)
    done = [0]
    latencies = []

    def visit(res, duration):
        with res.request() as req:
            yield req
            yield env.timeout(duration)

    def request(env):
        born = env.now
        yield from visit(lb, rng.expovariate(1.0 / 0.00005))
        yield from visit(app, rng.lognormvariate(mu, sigma))
        yield from visit(cache, rng.expovariate(1.0 / 0.0002))
        if rng.random() < 0.1:
            yield from visit(db, rng.expovariate(1.0 / 0.005))
        latencies.append(env.now - born)
        done[0] += 1

    def source(env):
        while True:
            yield env.timeout(rng.expovariate(1000.0))
            env.process(request(env))

    env.process(source(env))
    env.run(until=1000.0)
    return env.events, done[0], sum(latencies) / len(latencies)


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    runs = {"w1": [("W1 M/M/1 rho=0.9, 1M requests", w1)], "w3": [("W3 web stack, 1000 rps x 1000 s", w3)]}
    todo = runs.get(which, runs["w1"] + runs["w3"])
    print(f"{'workload':<36} {'events':>12} {'requests':>12} {'wall s':>10} {'events/s':>14} {'requests/s':>14} {'mean ms':>9}")
    for name, fn in todo:
        rng = random.Random(1)
        start = time.perf_counter()
        events, done, mean = fn(rng)
        wall = time.perf_counter() - start
        print(f"{name:<36} {events:>12,} {done:>12,} {wall:>10.3f} {events / wall:>14,.0f} {done / wall:>14,.0f} {mean * 1e3:>9.3f}")


if __name__ == "__main__":
    main()
