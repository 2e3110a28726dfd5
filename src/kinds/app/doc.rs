//! The app's description for the reference and the sandbox's property
//! editor: its fields, nested types and an example.

use crate::kind::{FieldType, Kind, field};

/// How the reference and the sandbox describe this kind.
pub const DOC: crate::kinds::KindDoc = crate::kinds::KindDoc {
    about: "An application server: `instances` x `workers`; a worker does the request's own work (`service`), then runs the handler of the request's class step by step, holding the worker while each call is out. Pools, autoscaling, load-dependent latency and a call policy (timeouts, retries, breakers) are optional.",
    fields: &[
        field("id", FieldType::Id, "", None, "Unique id."),
        field(
            "instances",
            FieldType::Count {
                min: 1,
                max: 10_000,
            },
            "instances",
            Some("1"),
            "Instances of the app.",
        ),
        field(
            "workers",
            FieldType::Count {
                min: 1,
                max: 1_000_000,
            },
            "workers",
            None,
            "Concurrent requests per instance (threads, workers).",
        ),
        field(
            "queue",
            FieldType::Count {
                min: 0,
                max: crate::topology::limits::MAX_QUEUE,
            },
            "requests",
            Some("unbounded"),
            "Waiting places per instance.",
        ),
        field(
            "service",
            FieldType::Dist,
            "",
            None,
            "The server's own work per request.",
        ),
        field(
            "handle",
            FieldType::Nested("handlers"),
            "",
            Some("none (own work only)"),
            "Steps per request class: `{\"read\": [CacheAside(cache: \"redis\", db: \"db\")], \"*\": [...]}`; `*` applies to classes not listed. Steps: Call, Read, Write, CacheAside, Invalidate, WriteThrough, ReadFresh, Publish, FanOut.",
        ),
        field(
            "pool",
            FieldType::Nested("Pool"),
            "",
            Some("none"),
            "A connection pool per instance for calls to one node: a call waits for a free connection.",
        ),
        field(
            "autoscale",
            FieldType::Nested("Autoscale"),
            "",
            Some("none"),
            "Add and remove instances to hold a target utilization.",
        ),
        crate::kind::LOAD_FACTOR_FIELD,
        crate::kind::LOAD_FIELD,
        field(
            "calls",
            FieldType::Nested("CallPolicy"),
            "",
            Some("none"),
            "A timeout per call, retries of failed calls, and a circuit breaker per target.",
        ),
    ],
    nested: &[
        (
            "Pool",
            &[
                field(
                    "to",
                    FieldType::Node(&[
                        Kind::Database,
                        Kind::Pooler,
                        Kind::Replica,
                        Kind::ShardRouter,
                    ]),
                    "",
                    None,
                    "The node whose calls use the pool.",
                ),
                field(
                    "size",
                    FieldType::Count {
                        min: 1,
                        max: 1_000_000,
                    },
                    "connections",
                    None,
                    "Connections per instance.",
                ),
            ],
        ),
        (
            "Autoscale",
            &[
                field(
                    "target",
                    FieldType::Number {
                        min: crate::kind::ABOVE_ZERO,
                        max: 1.0,
                    },
                    "",
                    None,
                    "Utilization to hold, e.g. 0.6.",
                ),
                field(
                    "min",
                    FieldType::Count {
                        min: 1,
                        max: 10_000,
                    },
                    "instances",
                    None,
                    "Fewest instances.",
                ),
                field(
                    "max",
                    FieldType::Count {
                        min: 1,
                        max: 10_000,
                    },
                    "instances",
                    None,
                    "Most instances.",
                ),
                field(
                    "every",
                    FieldType::Duration,
                    "",
                    Some("15s"),
                    "How often it looks.",
                ),
                field(
                    "provision",
                    FieldType::Duration,
                    "",
                    Some("60s"),
                    "Time for a new instance to start.",
                ),
                field(
                    "cooldown",
                    FieldType::Duration,
                    "",
                    Some("5m"),
                    "Time after a scale-up before it may scale down.",
                ),
            ],
        ),
        (
            "CallPolicy",
            &[
                field(
                    "timeout",
                    FieldType::Duration,
                    "",
                    Some("none"),
                    "Give up on a call after this long (the callee keeps working).",
                ),
                field(
                    "retries",
                    FieldType::Nested("Retries"),
                    "",
                    Some("none"),
                    "Retry a failed or timed-out single call.",
                ),
                field(
                    "breaker",
                    FieldType::Nested("Breaker"),
                    "",
                    Some("none"),
                    "A breaker per target node.",
                ),
            ],
        ),
    ],
    example: "App(id: \"app\", instances: 3, workers: 64, queue: 500, service: FromPercentiles(p50: \"6ms\", p99: \"30ms\"), handle: {\"read\": [CacheAside(cache: \"redis\", db: \"db\")], \"write\": [Write(db: \"db\"), Invalidate(cache: \"redis\")]}, pool: Pool(to: \"db\", size: 20))",
};
