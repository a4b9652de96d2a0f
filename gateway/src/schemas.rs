//! JSON Schemas of the YAML formats, generated from the Rust types that parse them.
//!
//! The committed copies live in `docs/schemas/`; `dss dev schemas --out docs/schemas`
//! refreshes them and a test fails when they are stale.

use dss_policies::pipeline::PipelineFile;
use dss_policies::spec::PolicyFile;

/// Every schema: file name and content.
pub fn all() -> Vec<(&'static str, String)> {
    vec![
        ("policy.schema.json", render::<PolicyFile>()),
        ("pipeline.schema.json", render::<PipelineFile>()),
        (
            "config.schema.json",
            render::<dss_pipelines::config::ConfigFile>(),
        ),
    ]
}

fn render<T: schemars::JsonSchema>() -> String {
    let schema = schemars::schema_for!(T);
    let mut text = serde_json::to_string_pretty(&schema).expect("schemas serialize");
    text.push('\n');
    text
}
