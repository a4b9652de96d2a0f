//! Compiles the gRPC API (`proto/dss/v1/*.proto`) with protox, a protobuf compiler in Rust,
//! so no system `protoc` is needed; the descriptor set is kept for gRPC reflection.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files =
        ["crm", "policy", "pipeline", "audit", "dsr"].map(|f| format!("proto/dss/v1/{f}.proto"));
    for f in &files {
        println!("cargo:rerun-if-changed={f}");
    }
    let fds = protox::compile(&files, ["proto"])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("dss_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    tonic_prost_build::configure()
        .codec_path("crate::server::codec::Codec")
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
