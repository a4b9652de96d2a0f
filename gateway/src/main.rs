//! `dss`: the DSS command line. See `dss --help`.
#![forbid(unsafe_code)]

// mimalloc: the check path allocates a string per field; glibc malloc costs a third of it.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // No transparent huge pages: mimalloc asks for them, and a 2 MB page counts whole however
    // little of it is used (peak memory of a million-contact sync: 291,860 → 258,232 KB, the
    // same speed). If the kernel refuses, DSS only uses more memory.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    dss_gateway::cli::run()
}
