//! Requests in flight, in a slab: slots are reused, so memory follows the
//! number of requests in the system, not the number simulated, and nothing is
//! allocated per request once the slab has grown to its working size.

use crate::time::SimTime;

/// One request in flight.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    /// When its source created it.
    pub born: SimTime,
    /// When it arrived at its current node.
    pub visit_arrival: SimTime,
    /// Its current node (`FREE` for an empty slot).
    pub node: u32,
}

/// Marks an empty slot.
pub const FREE: u32 = u32::MAX;

/// The slab.
#[derive(Clone, Debug, Default)]
pub struct Requests {
    slots: Vec<Request>,
    free: Vec<u32>,
    live: usize,
}

impl Requests {
    /// Stores a request and returns its slot.
    #[inline]
    pub fn alloc(&mut self, r: Request) -> u32 {
        self.live += 1;
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = r;
                i
            }
            None => {
                self.slots.push(r);
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// Frees a slot.
    #[inline]
    pub fn free(&mut self, i: u32) {
        debug_assert_ne!(
            self.slots[i as usize].node, FREE,
            "double free of request {i}"
        );
        self.slots[i as usize].node = FREE;
        self.free.push(i);
        self.live -= 1;
    }

    /// Requests in flight.
    pub fn live(&self) -> usize {
        self.live
    }

    /// Slots allocated (the high-water mark of requests in flight).
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The live requests.
    pub fn iter(&self) -> impl Iterator<Item = &Request> {
        self.slots.iter().filter(|r| r.node != FREE)
    }
}

impl std::ops::Index<u32> for Requests {
    type Output = Request;
    #[inline]
    fn index(&self, i: u32) -> &Request {
        &self.slots[i as usize]
    }
}

impl std::ops::IndexMut<u32> for Requests {
    #[inline]
    fn index_mut(&mut self, i: u32) -> &mut Request {
        &mut self.slots[i as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_reused() {
        let mut r = Requests::default();
        let req = Request {
            born: 0,
            visit_arrival: 0,
            node: 0,
        };
        let a = r.alloc(req);
        let b = r.alloc(req);
        r.free(a);
        let c = r.alloc(req);
        assert_eq!(c, a);
        assert_eq!(r.live(), 2);
        assert_eq!(r.capacity(), 2);
        r.free(b);
        assert_eq!(r.iter().count(), 1);
    }
}
