//! What `Context::current()` costs: `cargo run --release -p contextvars --example current_cost`.
//!
//! Times 10^8 calls in a loop (best of 5 rounds), outside any context with an empty base
//! context (the path every `contextvars::spawn` from a plain task takes), in an empty context,
//! in a context with one variable set (an `Arc` clone and drop), at the thread's top level once
//! its base context holds a variable (the same clone, after asking tokio whether a runtime is
//! entered), and the loop alone. `black_box` keeps each result alive.

use std::hint::black_box;
use std::time::Instant;

use contextvars::{Context, ContextVar};

const CALLS: u32 = 100_000_000;
const ROUNDS: usize = 5;

static VAR: ContextVar<u32> = ContextVar::new("var", 0);

fn ns_per_call() -> f64 {
    best(|| black_box(Context::current()))
}

/// The loop and `black_box` alone: the floor the figures above include.
fn floor() -> f64 {
    best(|| black_box(None::<Context>))
}

fn best<R>(mut call: impl FnMut() -> R) -> f64 {
    (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..CALLS {
                call();
            }
            start.elapsed().as_secs_f64() * 1e9 / f64::from(CALLS)
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    println!("loop floor:            {:.3} ns", floor());
    println!("outside any context:   {:.3} ns", ns_per_call());
    println!(
        "in an empty context:   {:.3} ns",
        Context::new().run(ns_per_call)
    );
    let mut ctx = Context::new();
    ctx.run(|| VAR.set(1).map(drop)).expect("in a context");
    println!("in a context with one: {:.3} ns", ctx.run(ns_per_call));
    VAR.set(1)
        .map(drop)
        .expect("at the top level: the base context");
    println!("base context with one: {:.3} ns", ns_per_call());
}
