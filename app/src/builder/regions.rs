//! Regions (data centres) and the links between them: make one from the
//! selection, move boxes in and out, set a link's latency, delete one.
//! The loader wants every pair of regions linked, so a new region is linked
//! to each other one at [`DEFAULT_LINK`].

use super::Builder;
use super::fields::Item;
use crate::sandbox::Sandbox;
use bottleneck::time::Duration;
use bottleneck::topology::{Link, Region, Topology};

/// The one-way latency a new region's links start with.
pub const DEFAULT_LINK: &str = "40ms";

fn take_out(t: &mut Topology, item: &Item) {
    for r in t.regions.iter_mut() {
        match item {
            Item::Node(id) => r.nodes.retain(|x| x != id),
            Item::Source(id) => r.sources.retain(|x| x != id),
        }
    }
}

fn put_in(r: &mut Region, item: &Item) {
    match item {
        Item::Node(id) => r.nodes.push(id.clone()),
        Item::Source(id) => r.sources.push(id.clone()),
    }
}

impl Builder {
    /// The region an item is in, if any.
    pub fn region_of(&self, item: &Item) -> Option<&str> {
        self.working
            .regions
            .iter()
            .find(|r| match item {
                Item::Node(id) => r.nodes.contains(id),
                Item::Source(id) => r.sources.contains(id),
            })
            .map(|r| r.id.as_str())
    }

    /// A new region holding the selection, linked to every other region at
    /// [`DEFAULT_LINK`]. Returns its id.
    pub fn new_region(&mut self, s: &mut Sandbox) -> Result<String, String> {
        self.sync(s);
        let mut t = self.working.clone();
        let taken = |id: &str| t.regions.iter().any(|r| r.id == id);
        let id = if taken("region") {
            (2..)
                .map(|k| format!("region-{k}"))
                .find(|id| !taken(id))
                .expect("some id is free")
        } else {
            "region".to_string()
        };
        let mut r = Region {
            id: id.clone(),
            nodes: Vec::new(),
            sources: Vec::new(),
        };
        for it in self.selection() {
            take_out(&mut t, &it);
            put_in(&mut r, &it);
        }
        let latency = Duration::parse(DEFAULT_LINK)?;
        for other in &t.regions {
            t.links.push(Link {
                a: other.id.clone(),
                b: id.clone(),
                latency,
            });
        }
        t.regions.push(r);
        let what = format!("new region `{id}`");
        self.commit(s, t, what, false, None).map(|_| id)
    }

    /// Moves items into `region` (`None`: out of every region).
    pub fn put_in_region(
        &mut self,
        s: &mut Sandbox,
        items: &[Item],
        region: Option<&str>,
    ) -> Result<String, String> {
        self.sync(s);
        let mut t = self.working.clone();
        for it in items {
            take_out(&mut t, it);
        }
        if let Some(id) = region {
            let r = t
                .regions
                .iter_mut()
                .find(|r| r.id == id)
                .ok_or_else(|| format!("no region `{id}`"))?;
            for it in items {
                put_in(r, it);
            }
        }
        let names: Vec<&str> = items.iter().map(Item::id).collect();
        let what = match region {
            Some(r) => format!("moved {} into region `{r}`", names.join(", ")),
            None => format!("took {} out of its region", names.join(", ")),
        };
        self.commit(s, t, what, false, None)
    }

    /// Sets the one-way latency of the link between two regions (text such
    /// as `"40ms"`); refused with the loader's words when it would not load.
    pub fn set_link(
        &mut self,
        s: &mut Sandbox,
        a: &str,
        b: &str,
        latency: &str,
    ) -> Result<String, String> {
        self.sync(s);
        let d = Duration::parse(latency.trim())?;
        let mut t = self.working.clone();
        let l = t
            .links
            .iter_mut()
            .find(|l| (l.a == a && l.b == b) || (l.a == b && l.b == a))
            .ok_or_else(|| format!("no link between `{a}` and `{b}`"))?;
        l.latency = d;
        self.commit(s, t, format!("link {a}-{b}: {d}"), true, None)
    }

    /// Deletes a region and its links; its boxes stay, in no region.
    pub fn delete_region(&mut self, s: &mut Sandbox, id: &str) -> Result<String, String> {
        self.sync(s);
        let mut t = self.working.clone();
        let before = t.regions.len();
        t.regions.retain(|r| r.id != id);
        if t.regions.len() == before {
            return Err(format!("no region `{id}`"));
        }
        t.links.retain(|l| l.a != id && l.b != id);
        self.commit(s, t, format!("deleted region `{id}`"), false, None)
    }
}
