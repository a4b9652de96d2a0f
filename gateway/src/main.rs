//! `dss`: the DSS command line. See `dss --help`.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    dss_gateway::cli::run()
}
