//! `dss`: the DSS command line. See `dss --help`.
#![forbid(unsafe_code)]

// mimalloc: the check path allocates a string per field; glibc malloc costs a third of it.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    dss_gateway::cli::run()
}
