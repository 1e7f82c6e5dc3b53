//! The C allocator's settings for one command's run: freed memory is kept for reuse, so each page is faulted in once per run.

/// Sets glibc's `malloc` up for one run of a command (on Linux with glibc; elsewhere it does
/// nothing), before any other thread starts.
///
/// A command allocates a few buffers of about a column each (the file, the variables, the
/// sorted lines, the grid, the terms), frees some and allocates the next. With glibc's
/// defaults, a buffer over 128 KiB is a fresh mapping, unmapped when freed; each thread
/// that allocates gets an arena of its own; and the heap's top is handed back once it is
/// free. Every page of the next buffer is then a new page fault (about 1.3 µs each on the
/// 2-core development machine), and every unmap interrupts the other threads. The settings:
/// - `M_ARENA_MAX` 1: the worker threads allocate from the main arena, whose freed memory
///   they reuse, instead of mapping arenas of their own;
/// - `M_MMAP_THRESHOLD` 32 MiB (glibc's largest): buffers up to that size come from the
///   heap and are reused after they are freed; larger ones are still mapped;
/// - `M_TRIM_THRESHOLD` `i32::MAX`: the heap is never shrunk during the run;
/// - `M_TOP_PAD` 8 MiB: the heap grows 8 MiB at a time, not one buffer at a time.
///
/// A run's peak memory is what it was: only pages already touched are kept. Nothing here
/// changes a result. On the development machine a 10 000-row `infometer mi` in 1+1 went
/// from 3.71 to 3.41 ms and a 100 000-row one from 29.2 to 27.4 ms (median of 41 and of
/// 15 processes, alternating; `docs/benchmarks.md`).
///
/// # Errors
/// None: a setting glibc refuses leaves its default in place.
///
/// # Examples
/// ```
/// infometer_cli::heap::tune_for_one_run();
/// let v = vec![1.0f64; 1 << 20]; // 8 MiB, from the heap
/// assert_eq!(v.iter().sum::<f64>(), (1u64 << 20) as f64);
/// ```
///
/// # References
/// The GNU C Library manual, "Malloc Tunable Parameters"; `mallopt(3)`.
pub fn tune_for_one_run() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    for (param, value) in [
        (libc::M_ARENA_MAX, 1),
        (libc::M_MMAP_THRESHOLD, 32 << 20),
        (libc::M_TRIM_THRESHOLD, i32::MAX),
        (libc::M_TOP_PAD, 8 << 20),
    ] {
        set(param, value);
    }
}

/// One `mallopt` call; its status (0 where glibc refuses the value) is not needed: the
/// default then stays, which is correct, only slower.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn set(param: libc::c_int, value: libc::c_int) {
    // SAFETY: mallopt takes two integers and changes only the allocator's parameters, under
    // the allocator's own lock; it reads or writes no memory of ours. The parameters are
    // glibc's documented ones, with values in their ranges (a value out of range is refused
    // with status 0, and the parameter keeps its default).
    unsafe {
        libc::mallopt(param, value);
    }
}
