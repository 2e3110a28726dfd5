//! Station: a generic first-come-first-served queueing station, `servers`
//! parallel servers in front of one FIFO queue, with probabilistic routes
//! out. The textbook node: M/M/c, M/G/1 and Jackson networks are built from
//! it (tests/it/theory.rs checks it against queueing theory).

use crate::diag::{Diagnostic, Diagnostics};
use crate::dist::Dist;
use crate::kind::{FieldType, field};
use crate::kinds::KindModel;
use crate::model::{NodeModel, RouteModel};
use crate::sim::{Fault, Simulation, outcome};
use crate::topology::check::{CompileCx, NodeCheck};
use crate::topology::limits::*;
use serde::{Deserialize, Serialize};

/// A queueing station: `servers` parallel servers in front of one FIFO queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Station {
    /// Unique id.
    pub id: String,
    /// Number of parallel servers (at least 1).
    pub servers: u64,
    /// Waiting places besides those in service; absent means unbounded. An
    /// arrival that finds every server busy and the queue full is dropped.
    #[serde(default)]
    pub queue: Option<u64>,
    /// How long one request occupies a server.
    pub service: Dist,
    /// Where requests go after service, with probabilities; the probability
    /// left over leaves the system (the request is complete).
    #[serde(default)]
    pub routes: Vec<Route>,
    /// Load-dependent latency: service times multiplied by a curve of the
    /// utilization (absent: none).
    #[serde(default)]
    pub load: Option<crate::kind::LoadCurve>,
}

/// One probabilistic route out of a node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Target node id.
    pub to: String,
    /// Probability that a request leaving the node goes there.
    pub p: f64,
}

impl Station {
    /// Checks the station (servers, queue, service, routes).
    pub(crate) fn check(&self, nc: &NodeCheck, ds: &mut Diagnostics) {
        let st = self;

        if st.servers == 0 {
            ds.push(
                nc.err("`servers` is 0: nothing would ever be served".into())
                    .hint("give at least 1 server"),
            );
        } else if st.servers > MAX_SERVERS {
            ds.push(nc.err(format!(
                "`servers` is {}, over the limit of {MAX_SERVERS}",
                st.servers
            )));
        }
        if let Some(q) = st.queue
            && q > MAX_QUEUE
        {
            ds.push(
                nc.err(format!("`queue` is {q}, over the limit of {MAX_QUEUE}"))
                    .hint("leave `queue` out for an unbounded queue"),
            );
        }
        if let Err(m) = st.service.check() {
            ds.push(nc.err(m).hint("e.g. `Exponential(mean: \"10ms\")` or `Constant(\"5ms\")`; `bottleneck reference` lists the distributions"));
        }
        nc.load(&st.load, None, ds);
        if st.routes.len() > MAX_ROUTES {
            ds.push(nc.err(format!(
                "{} routes, over the limit of {MAX_ROUTES}",
                st.routes.len()
            )));
            return;
        }
        let mut sum = 0.0;
        let (cx, at, item) = (nc.cx, nc.at, nc.item.as_str());
        let mut from = at.unwrap_or(0);
        for r in &st.routes {
            let rat = cx.places.find(from, "to", &r.to);
            if let Some(a) = rat {
                from = a;
            }
            if !cx.index.contains_key(r.to.as_str()) {
                ds.push((cx.unknown)(&r.to).at(cx.pos(rat.or(at))).on(item));
            }
            crate::kinds::cache::on_path::refuse_aside(cx, &r.to, "to", rat.or(at), item, ds);
            if !r.p.is_finite() || r.p < 0.0 || r.p > 1.0 {
                ds.push(
                    Diagnostic::error(format!(
                        "route to `{}` has p = {}; a probability is between 0 and 1",
                        r.to, r.p
                    ))
                    .at(cx.pos(rat.or(at)))
                    .on(item),
                );
            } else {
                sum += r.p;
            }
        }
        if sum > 1.0 + 1e-9 {
            ds.push(
                nc.err(format!("route probabilities sum to {sum}, more than 1"))
                    .hint("the probabilities are shares of the requests leaving the node; what is left over leaves the system"),
            );
        }
    }

    /// The station in the model's form.
    pub(crate) fn compile(&self, cx: &CompileCx) -> NodeModel {
        let routes: Vec<RouteModel> = self
            .routes
            .iter()
            .filter(|r| r.p > 0.0)
            .map(|r| RouteModel {
                to: cx.index[r.to.as_str()],
                p: r.p,
            })
            .collect();
        let mut m = NodeModel::new(
            &self.id,
            KindModel::Station,
            self.servers,
            self.queue,
            self.service.sampler(),
        );
        m.load = crate::topology::check::load_model(self.load, None);
        m.exit = (1.0 - routes.iter().map(|r| r.p).sum::<f64>()).max(0.0);
        m.flows = routes.clone();
        m.routes = routes;
        m
    }
}

/// What each fault does to a station.
pub fn effect(fault: Fault) -> Result<&'static str, &'static str> {
    super::common_effect(fault)
}

impl Simulation {
    /// A station's service is over: route the request on, or end its path.
    #[inline]
    pub(crate) fn station_done(&mut self, i: usize, req: u32) {
        self.release(i);
        let n = &mut self.nodes[i];
        let target = if n.routes.is_empty() {
            None
        } else {
            let u = n.rng_route.unit();
            n.routes.iter().find(|&&(cum, _)| u < cum).map(|&(_, t)| t)
        };
        match target {
            Some(t) => self.forward(i, t as usize, req),
            None => {
                self.record_visit(i, req, true);
                self.finish(req, outcome::OK);
            }
        }
    }
}

/// How the reference and the sandbox describe this kind.
pub const DOC: crate::kinds::KindDoc = crate::kinds::KindDoc {
    about: "A generic first-come-first-served queueing station: `servers` parallel servers in front of one FIFO queue, with probabilistic routes out. M/M/c, M/G/1 and Jackson networks are built from it.",
    fields: &[
        field("id", FieldType::Id, "", None, "Unique id."),
        field(
            "servers",
            FieldType::Count {
                min: 1,
                max: 1_000_000,
            },
            "servers",
            None,
            "Parallel servers.",
        ),
        field(
            "queue",
            FieldType::Count {
                min: 0,
                max: crate::topology::limits::MAX_QUEUE,
            },
            "requests",
            Some("unbounded"),
            "Waiting places besides those in service; an arrival that finds every server busy and the queue full is dropped.",
        ),
        field(
            "service",
            FieldType::Dist,
            "",
            None,
            "How long one request occupies a server.",
        ),
        crate::kind::LOAD_FIELD,
        field(
            "routes",
            FieldType::Nested("Route"),
            "",
            Some("none"),
            "Where requests go after service, with probabilities; what is left over leaves the system (the request is complete).",
        ),
    ],
    nested: &[(
        "Route",
        &[
            field("to", FieldType::Node(&[]), "", None, "Target node."),
            field(
                "p",
                FieldType::Ratio,
                "",
                None,
                "Probability that a request leaving the node goes there.",
            ),
        ],
    )],
    example: "Station(id: \"web\", servers: 4, queue: 50, service: LogNormal(mean: \"20ms\", std: \"30ms\"), routes: [Route(to: \"db\", p: 0.3)])",
};
