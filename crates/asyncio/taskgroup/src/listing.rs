//! The tasks a group lists, for its shutdown to wake them and for snapshots: a slab, each task
//! holding the index of its own entry, so that listing a task and taking it off again is an
//! index, not a search, under the group's lock.

use std::sync::Arc;
use std::task::Waker;

use crate::current::TaskId;

/// A task's name, shared by its handle and its listing: one pointer, so that a handle stays
/// small (the eager path returns one for every task).
pub(crate) type Name = Arc<String>;

/// A task's slot when it has no entry.
pub(crate) const UNLISTED: u32 = u32::MAX;

/// What the listing keeps of a task: an entry is made when the task first suspends (a task
/// that ends in its first step costs no lock), or at its spawn if it has a name (which only the
/// listing keeps for it) or went on from an eager step; it is taken off when the task ends.
pub(crate) struct Listed {
    pub(crate) id: TaskId,
    pub(crate) name: Option<Name>,
    /// The task's own waker, from its first suspension on. It wakes the task to see that its
    /// group is shutting down. Tokio polls a task with its own waker every time, so the first
    /// one stays valid.
    pub(crate) waker: Option<Waker>,
}

#[derive(Default)]
pub(crate) struct Listing {
    entries: Vec<Option<Listed>>,
    /// Free slots, reused last-freed first.
    free: Vec<u32>,
}

impl Listing {
    /// Lists `task`; returns its slot.
    pub(crate) fn insert(&mut self, task: Listed) -> u32 {
        match self.free.pop() {
            Some(slot) => {
                self.entries[slot as usize] = Some(task);
                slot
            }
            None => {
                let slot = u32::try_from(self.entries.len())
                    .ok()
                    .filter(|&slot| slot != UNLISTED)
                    .unwrap_or_else(|| std::process::abort()); // 4 billion live tasks
                self.entries.push(Some(task));
                slot
            }
        }
    }

    pub(crate) fn get_mut(&mut self, slot: u32) -> Option<&mut Listed> {
        self.entries.get_mut(slot as usize)?.as_mut()
    }

    pub(crate) fn remove(&mut self, slot: u32) {
        if let Some(entry) = self.entries.get_mut(slot as usize)
            && entry.take().is_some()
        {
            self.free.push(slot);
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Listed> {
        self.entries.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task() -> Listed {
        Listed {
            id: TaskId::next(),
            name: None,
            waker: None,
        }
    }

    #[test]
    fn a_freed_slot_is_reused_and_the_others_keep_theirs() {
        let mut listing = Listing::default();
        let slots: Vec<u32> = (0..4).map(|_| listing.insert(task())).collect();
        assert_eq!(slots, [0, 1, 2, 3]);
        let kept = listing.get_mut(3).map(|entry| entry.id);
        listing.remove(1);
        listing.remove(1); // twice: the second finds nothing
        assert_eq!(listing.iter().count(), 3);
        assert_eq!(listing.insert(task()), 1, "the freed slot");
        assert_eq!(listing.insert(task()), 4, "no slot freed twice");
        assert_eq!(listing.get_mut(3).map(|entry| entry.id), kept);
    }
}
