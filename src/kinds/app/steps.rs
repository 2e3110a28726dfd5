//! An app handler's steps: as written (`Step`) and compiled (`StepModel`).

use crate::time::Duration;
use serde::{Deserialize, Serialize};

/// The kinds a read may target: `Read`'s database, and what a
/// `CacheAside` reads on a miss (a primary, a replica, a balancer over
/// replicas, a shard router, a pooler). Writes still go to a primary
/// (directly, through a shard router, or through a pooler in front of it).
pub(crate) const READ_TARGETS: &[&str] = &[
    "Database",
    "Replica",
    "LoadBalancer",
    "ShardRouter",
    "Pooler",
];

/// One step of an application handler.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Step {
    /// Call another node and wait for its answer: `Call(to: "search")`.
    Call {
        /// Target node.
        to: String,
    },
    /// Read from a database: `Read(db: "db")`.
    Read {
        /// Target database.
        db: String,
    },
    /// Write to a database (a primary, a shard router, or a pooler in
    /// front of a primary): `Write(db: "db")`.
    Write {
        /// Target database.
        db: String,
    },
    /// Cache-aside read: get the key from the cache; on a miss read `db`,
    /// then fill the cache (without waiting for the fill). `db` is anything
    /// a `Read` may read: a database, a replica, a balancer over replicas,
    /// a shard router or a pooler.
    CacheAside {
        /// The cache.
        cache: String,
        /// Where a miss reads the key (a database, replica, balancer over
        /// replicas, shard router or pooler).
        db: String,
    },
    /// Delete the key from a cache and wait for it: `Invalidate(cache: "redis")`.
    Invalidate {
        /// The cache.
        cache: String,
    },
    /// Write-through: write to the database, then set the key in the cache
    /// (waiting for both): `WriteThrough(cache: "redis", db: "db")`.
    WriteThrough {
        /// The cache.
        cache: String,
        /// The database.
        db: String,
    },
    /// Read-your-writes: read from `primary` if the key was written less
    /// than `within` ago, otherwise from `replicas` (a replica or a load
    /// balancer over replicas): `ReadFresh(replicas: "replicas", primary: "db", within: "2s")`.
    ReadFresh {
        /// Where ordinary reads go.
        replicas: String,
        /// Where reads of fresh writes go.
        primary: String,
        /// How recent a write must be to read from the primary.
        within: Duration,
    },
    /// Put a message on a queue and carry on (its workers handle it later):
    /// `Publish(queue: "emails")`.
    Publish {
        /// The queue.
        queue: String,
    },
    /// Call `to` `count` times in parallel and wait for every answer (a
    /// scatter-gather over shards or leaves); fails if any call fails. With
    /// `hedge_after`, a call still out after that long is sent again and the
    /// first answer wins: `FanOut(to: "leaf", count: 100, hedge_after: "20ms")`.
    FanOut {
        /// Target node (often a load balancer over the leaves).
        to: String,
        /// Parallel calls.
        count: u32,
        /// Send a second copy of calls still out after this long.
        #[serde(default)]
        hedge_after: Option<Duration>,
    },
}

/// A compiled handler step; node ids resolved to indices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepModel {
    /// Call a node.
    Call(u32),
    /// Read from a database.
    Read(u32),
    /// Write to a database.
    Write(u32),
    /// Cache-aside read through a cache to a database.
    CacheAside {
        /// Cache node.
        cache: u32,
        /// Database node.
        db: u32,
    },
    /// Delete the key from a cache.
    Invalidate(u32),
    /// Write to a database, then set the key in a cache.
    WriteThrough {
        /// Cache node.
        cache: u32,
        /// Database node.
        db: u32,
    },
    /// Read from the primary if the key was written within `within` ns,
    /// else from `replicas`.
    ReadFresh {
        /// Replica (or balancer over replicas).
        replicas: u32,
        /// Primary database.
        primary: u32,
        /// Freshness window, ns.
        within: u64,
    },
    /// Publish a message to a queue (fire and forget).
    Publish(u32),
    /// Parallel calls, with optional hedging.
    FanOut {
        /// Target node.
        to: u32,
        /// Parallel calls.
        count: u16,
        /// Hedge delay in ns (`u64::MAX`: no hedging).
        hedge_after: u64,
    },
}

impl StepModel {
    /// The nodes this step calls and waits for (not a publish's queue, whose
    /// messages nobody waits for).
    pub fn waits_on(&self) -> impl Iterator<Item = u32> {
        let (a, b) = match *self {
            StepModel::Call(t)
            | StepModel::Read(t)
            | StepModel::Write(t)
            | StepModel::Invalidate(t) => (Some(t), None),
            StepModel::CacheAside { cache, db } | StepModel::WriteThrough { cache, db } => {
                (Some(cache), Some(db))
            }
            StepModel::ReadFresh {
                replicas, primary, ..
            } => (Some(replicas), Some(primary)),
            StepModel::FanOut { to, .. } => (Some(to), None),
            StepModel::Publish(_) => (None, None),
        };
        a.into_iter().chain(b)
    }
}
