//! The queue of ex_6_4, a library so its tests and its whole API stand on their own.

pub mod queue;
