//! Following a plan: how each accepted change moves the symbolic
//! [`FaultState`] (the other half of [`super`]: whether a change acts).

use super::*;

impl FaultState {
    /// Applies `change` (already checked) to the state, at its time.
    pub fn apply(&mut self, model: &Model, change: &Change) {
        let idx = |id: &str| model.node_index(id).filter(|&i| i < self.down.len());
        match change {
            Change::Down(id) => {
                if let Some(i) = idx(id) {
                    self.crash(i);
                }
            }
            Change::Drain(id) => {
                if let Some(i) = idx(id)
                    && self.down[i] == Down::Up
                {
                    self.down[i] = Down::Drained;
                    // Going down empties a cache; only fills in service
                    // when it drained can put keys back.
                    self.settle();
                    let refills = self.reach.fills(model, i).is_ok();
                    self.emptied[i] = (!refills).then_some(self.now);
                    self.held[i] = refills;
                }
            }
            Change::Up(id) => {
                if let Some(i) = idx(id) {
                    self.bring_up(i);
                }
            }
            Change::Slow { node, factor } => {
                if let Some(i) = idx(node) {
                    self.slow[i] = *factor;
                }
            }
            Change::Errors { node, rate } => {
                if let Some(i) = idx(node) {
                    self.errors[i] = *rate;
                }
            }
            Change::Servers { node, servers } => {
                if let Some(i) = idx(node) {
                    self.servers[i] = match &model.nodes[i].kind {
                        KindModel::Pooler(p) => pooler_grant(model, i, p.to, *servers),
                        _ => Some(*servers),
                    };
                }
            }
            Change::Instances { node, count } => {
                if let Some(i) = idx(node)
                    && self.instances[i].is_some()
                {
                    self.instances[i] = Some(*count);
                }
            }
            Change::Shards { node, count } => {
                if let Some(i) = idx(node) {
                    self.shards[i] = Some(*count);
                }
            }
            Change::Flush(id) => {
                if let Some(i) = idx(id) {
                    self.emptied[i] = Some(self.now);
                    self.held[i] = false;
                    self.filling[i] = self.filling[i].map(|_| self.now);
                }
            }
            Change::Partition { a, b } | Change::Heal { a, b } => {
                if let (Some(x), Some(y)) = (idx(a), idx(b)) {
                    if matches!(change, Change::Partition { .. }) {
                        self.partitions.insert(pair(x, y));
                    } else {
                        self.partitions.remove(&pair(x, y));
                    }
                }
            }
            Change::DownRegion(r) | Change::UpRegion(r) => {
                let Some(ri) = model.regions.iter().position(|x| x == r) else {
                    return;
                };
                for i in 0..self.down.len() {
                    if model.node_region.get(i) == Some(&(ri as u16)) {
                        if matches!(change, Change::DownRegion(_)) {
                            self.crash(i);
                        } else {
                            self.bring_up(i);
                        }
                    }
                }
            }
            Change::Traffic(m) => {
                self.traffic = *m;
                self.advance(model, self.now);
            }
            Change::Restructure(r) => {
                self.restructure(&r.model, &r.retire);
                self.refresh(&r.model);
                return;
            }
        }
        if matches!(
            change,
            Change::Down(_)
                | Change::Drain(_)
                | Change::Up(_)
                | Change::Errors { .. }
                | Change::Partition { .. }
                | Change::Heal { .. }
                | Change::DownRegion(_)
                | Change::UpRegion(_)
                | Change::Traffic(_)
        ) {
            self.refresh(model);
        }
    }

    /// Node `i` crashes: a cache empties.
    fn crash(&mut self, i: usize) {
        if self.down[i] == Down::Up {
            self.emptied[i] = Some(self.now);
        }
        self.down[i] = Down::Crashed;
        self.held[i] = false;
        self.filling[i] = None;
    }

    /// Node `i` comes back: a crashed cache comes back empty.
    fn bring_up(&mut self, i: usize) {
        if self.down[i] == Down::Crashed {
            self.emptied[i] = Some(self.now);
        }
        self.down[i] = Down::Up;
    }

    /// A structural edit: the state follows the edited model. Persisting
    /// nodes keep their faults; settings an edit may have changed (servers,
    /// instances, shards) become unknown; retired nodes are down for good;
    /// new nodes start as configured.
    fn restructure(&mut self, model: &Model, retire: &[u32]) {
        let was = self.down.len();
        let n = model.nodes.len();
        self.open = Reach::of(model);
        self.sources = sends(model);
        self.down.resize(n, Down::Up);
        self.slow.resize(n, 1.0);
        self.errors.resize(n, 0.0);
        self.servers = vec![None; n];
        self.instances = vec![None; n];
        self.shards = vec![None; n];
        self.emptied.resize(n, None);
        self.seen.resize(n, false);
        self.held.resize(n, false);
        self.filling.resize(n, None);
        self.configured(model, was.min(n)..n);
        for &i in retire {
            if let Some(d) = self.down.get_mut(i as usize) {
                *d = Down::Drained;
            }
        }
        self.bursts = model
            .sources
            .iter()
            .enumerate()
            .map(|(s, m)| {
                let fired = self.bursts.get(s).copied().flatten().is_some_and(|b| b.1);
                m.burst.map(|(_, at)| (at, fired))
            })
            .collect();
    }
}
