//! The allocate/free pair of `benches/kernels.rs` with the system allocator alone
//! (`cargo bench --bench alloc_system`): the baseline that the cost of the tracking
//! allocator of `tp4::alloc` is measured against.

use divan::black_box;

fn main() {
    divan::main();
}

/// An allocate/free pair of 64 bytes through the system allocator.
#[divan::bench]
fn alloc_free_64_system() -> Vec<u8> {
    let v: Vec<u8> = Vec::with_capacity(black_box(64));
    black_box(v)
}
