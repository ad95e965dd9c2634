//! The tasks a group lists, for its shutdown to wake them and for snapshots: a slab, each task
//! holding the index of its own entry, so that listing a task and taking it off again is an
//! index, not a search, under the group's lock.
//!
//! Small on purpose: every task that suspends has an entry while it waits, so with 10^6 such
//! tasks the listing is 10^6 entries, and here memory first touched costs a page fault per
//! 4 KiB. An entry is three words (an id and a waker); a free entry holds the next free slot in
//! the same space, as the `slab` crate keeps its free list; the few names sit beside.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::task::Waker;

use crate::current::TaskId;

/// A task's name, shared by its handle and its listing: one pointer, so that a handle stays
/// small (the eager path returns one for every task).
pub(crate) type Name = Arc<String>;

/// A task's slot when it has no entry; also the end of the free list.
pub(crate) const UNLISTED: u32 = u32::MAX;

/// One slot of the listing.
enum Entry {
    /// A listed task: an entry is made when the task first suspends (a task that ends in its
    /// first step costs no lock), or at its spawn if it has a name (which only the listing
    /// keeps for it) or went on from an eager step; it is taken off when the task ends.
    Listed {
        id: TaskId,
        /// The task's own waker, from its first suspension on. It wakes the task to see that
        /// its group is shutting down. Tokio polls a task with its own waker every time, so
        /// the first one stays valid.
        waker: Option<Waker>,
    },
    /// A free slot, and the next free one (or `UNLISTED`).
    Vacant(u32),
}

/// A listed task, as snapshots show it.
pub(crate) struct Listed<'a> {
    pub(crate) id: TaskId,
    pub(crate) name: Option<&'a Name>,
}

pub(crate) struct Listing {
    entries: Vec<Entry>,
    /// The first free slot, reused last-freed first; `UNLISTED` when none is free.
    free: u32,
    /// The names of the listed tasks that have one, by id.
    names: BTreeMap<TaskId, Name>,
}

impl Default for Listing {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            free: UNLISTED,
            names: BTreeMap::new(),
        }
    }
}

impl Listing {
    /// Lists task `id`; returns its slot.
    pub(crate) fn insert(&mut self, id: TaskId, name: Option<Name>, waker: Option<Waker>) -> u32 {
        if let Some(name) = name {
            self.names.insert(id, name);
        }
        let entry = Entry::Listed { id, waker };
        match self.free {
            UNLISTED => {
                let slot = u32::try_from(self.entries.len())
                    .ok()
                    .filter(|&slot| slot != UNLISTED)
                    .unwrap_or_else(|| std::process::abort()); // 4 billion live tasks
                self.entries.push(entry);
                slot
            }
            slot => {
                let vacant = std::mem::replace(&mut self.entries[slot as usize], entry);
                self.free = match vacant {
                    Entry::Vacant(next) => next,
                    Entry::Listed { .. } => unreachable!("the free list holds only free slots"),
                };
                slot
            }
        }
    }

    /// Gives the task listed at `slot` its waker; returns false if no task is listed there.
    pub(crate) fn set_waker(&mut self, slot: u32, waker: &Waker) -> bool {
        match self.entries.get_mut(slot as usize) {
            Some(Entry::Listed { waker: kept, .. }) => {
                *kept = Some(waker.clone());
                true
            }
            _ => false,
        }
    }

    pub(crate) fn remove(&mut self, slot: u32) {
        if let Some(entry) = self.entries.get_mut(slot as usize)
            && let Entry::Listed { id, .. } = *entry
        {
            *entry = Entry::Vacant(self.free);
            self.free = slot;
            if !self.names.is_empty() {
                self.names.remove(&id);
            }
        }
    }

    /// The wakers of the listed tasks that have suspended.
    pub(crate) fn wakers(&self) -> impl Iterator<Item = &Waker> {
        self.entries.iter().filter_map(|entry| match entry {
            Entry::Listed { waker, .. } => waker.as_ref(),
            Entry::Vacant(_) => None,
        })
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = Listed<'_>> {
        self.entries.iter().filter_map(|entry| match *entry {
            Entry::Listed { id, .. } => Some(Listed {
                id,
                name: self.names.get(&id),
            }),
            Entry::Vacant(_) => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(listing: &Listing) -> Vec<TaskId> {
        listing.iter().map(|task| task.id).collect()
    }

    #[test]
    fn a_freed_slot_is_reused_and_the_others_keep_theirs() {
        let mut listing = Listing::default();
        let slots: Vec<u32> = (0..4)
            .map(|_| listing.insert(TaskId::next(), None, None))
            .collect();
        assert_eq!(slots, [0, 1, 2, 3]);
        let kept = ids(&listing)[3];
        listing.remove(1);
        listing.remove(1); // twice: the second finds nothing
        assert_eq!(listing.iter().count(), 3);
        assert_eq!(
            listing.insert(TaskId::next(), None, None),
            1,
            "the freed slot"
        );
        assert_eq!(
            listing.insert(TaskId::next(), None, None),
            4,
            "no slot freed twice"
        );
        assert_eq!(ids(&listing)[3], kept);
    }

    #[test]
    fn slots_freed_in_any_order_are_reused_last_freed_first() {
        let mut listing = Listing::default();
        for _ in 0..5 {
            listing.insert(TaskId::next(), None, None);
        }
        for slot in [3, 0, 4] {
            listing.remove(slot);
        }
        let reused: Vec<u32> = (0..4)
            .map(|_| listing.insert(TaskId::next(), None, None))
            .collect();
        assert_eq!(reused, [4, 0, 3, 5]);
        assert_eq!(listing.iter().count(), 6);
    }

    #[test]
    fn a_name_is_shown_while_its_task_is_listed_and_let_go_with_it() {
        let mut listing = Listing::default();
        let named = TaskId::next();
        let slot = listing.insert(named, Some(Name::new("worker".into())), None);
        listing.insert(TaskId::next(), None, None);
        let names: Vec<Option<&str>> = listing
            .iter()
            .map(|task| task.name.map(|name| name.as_str()))
            .collect();
        assert_eq!(names, [Some("worker"), None]);
        listing.remove(slot);
        assert!(listing.names.is_empty());
        assert_eq!(listing.iter().count(), 1);
    }

    #[test]
    fn only_a_task_given_its_waker_is_woken() {
        let mut listing = Listing::default();
        let waker = Waker::noop();
        let slot = listing.insert(TaskId::next(), None, None);
        listing.insert(TaskId::next(), None, Some(waker.clone()));
        assert_eq!(listing.wakers().count(), 1);
        assert!(listing.set_waker(slot, waker));
        assert_eq!(listing.wakers().count(), 2);
        listing.remove(slot);
        assert!(
            !listing.set_waker(slot, waker),
            "a free slot takes no waker"
        );
        assert_eq!(listing.wakers().count(), 1);
    }

    #[test]
    fn an_entry_is_three_words() {
        assert_eq!(std::mem::size_of::<Entry>(), 24);
    }
}
