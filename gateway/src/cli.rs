//! The `dss` command tree.
//!
//! Exit codes: 0 success; 1 the input had problems (bad records, failed policy tests);
//! 2 the configuration is invalid (policy or pipeline YAML, unreadable files); 3 records were
//! blocked and `--fail-on-block` was given.

use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use base64::Engine as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use dss_core::{JurisdictionCode, ObjectKind, RegionId};
use dss_policies::pipeline::Pipeline;
use dss_policies::{Keyring, Planner, RouteSpec, Scanner};

use crate::check::{Checker, Format};
use crate::files::{ConfigError, load_pipelines, load_policy};

/// DSS: cross-cloud data sync and data-residency gateway.
///
/// Moves CRM records between tenants in Beijing (PIPL), Frankfurt (GDPR) and Hong Kong (PDPO)
/// and the ERP/OA systems around them, deciding before anything crosses a border what may
/// leave: pass, mask, tokenize, generalize, drop or block, field by field.
#[derive(Debug, Parser)]
#[command(
    name = "dss",
    version,
    propagate_version = true,
    max_term_width = 100,
    after_help = "Exit codes: 0 ok; 1 bad input lines, failed policy tests or a tampered transfer log; \
                  2 invalid configuration (YAML, unreadable files); 3 records blocked under --fail-on-block.\n\
                  Docs: README.md, docs/policies.md, docs/records.md, docs/operations.md."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check, explain, validate and test policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Run a deployment: open every region's store, seed empty demo tenants, run the
    /// pipelines, print a summary per route.
    Run(RunArgs),
    /// Serve regions' gRPC gateways (CRM domain, dry runs, pipelines, audit, data-subject
    /// requests) until Ctrl-C or SIGTERM, then drain in-flight calls.
    Serve {
        #[command(flatten)]
        config: ConfigArg,
        /// Serve only this region (repeatable); every region in `gateway.listen` by default.
        #[arg(long, value_name = "REGION")]
        region: Vec<String>,
    },
    /// Read, verify and export the transfer log (for DPOs).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Data-subject requests: access and erasure (for DPOs).
    #[command(subcommand)]
    Dsr(DsrCommand),
    /// Developer tools: synthetic data, keys, certificates, JSON Schemas.
    #[command(subcommand)]
    Dev(DevCommand),
}

#[derive(Debug, Args)]
struct ConfigArg {
    /// The deployment's configuration file (the same for `run`, `serve`, `audit` and `dsr`).
    /// `DSS_<KEY>__<KEY>` variables override its keys, `DSS_<KEY>__…__FILE` reads a value
    /// from a file (docs/operations.md).
    #[arg(long, value_name = "FILE", env = "DSS_CONFIG")]
    config: PathBuf,
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Run only this pipeline.
    #[arg(long, value_name = "NAME")]
    pipeline: Option<String>,
}

#[derive(Debug, Subcommand)]
enum DsrCommand {
    /// Every record of a data subject and every transfer of it: where it went, when, under
    /// which basis.
    Access {
        #[command(flatten)]
        config: ConfigArg,
        /// The data subject's identity (the record's `subject.id`).
        #[arg(long)]
        subject: String,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Erase a data subject: delete their records at home, destroy their vault entries
    /// (crypto-shredding) and send delete events to every tenant that received them.
    Erase {
        #[command(flatten)]
        config: ConfigArg,
        /// The data subject's identity (the record's `subject.id`).
        #[arg(long)]
        subject: String,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain of every region's transfer log (or one's) and check the
    /// head-counts that thresholds read against it; on tampering, exit 1 naming the first bad
    /// entry (or the head-count that disagrees) and what is wrong.
    Verify {
        #[command(flatten)]
        config: ConfigArg,
        /// Only this region (no other region's store is opened).
        #[arg(long)]
        region: Option<String>,
    },
    /// Entries of the transfer log, filtered.
    Query(QueryArgs),
    /// Dead letters (records that could not be read, mapped or written) with their reasons,
    /// per region; payloads stay in the store.
    DeadLetters {
        #[command(flatten)]
        config: ConfigArg,
        /// Only this region (no other region's store is opened).
        #[arg(long)]
        region: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// The whole log (or a filtered part) as CSV or JSON Lines.
    Export(QueryArgs),
    /// Transfers per route, object kind and legal basis over a period, and distinct data
    /// subjects per destination jurisdiction per calendar year (from tokens): the summary a
    /// DPO files as a record of processing.
    Report {
        #[command(flatten)]
        config: ConfigArg,
        /// From this time (RFC 3339, inclusive).
        #[arg(long)]
        since: Option<String>,
        /// Before this time (RFC 3339).
        #[arg(long)]
        until: Option<String>,
        /// JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
struct QueryArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// Only this region's log (no other region's store is opened).
    #[arg(long)]
    region: Option<String>,
    /// From this time (RFC 3339, inclusive).
    #[arg(long)]
    since: Option<String>,
    /// Before this time (RFC 3339).
    #[arg(long)]
    until: Option<String>,
    /// Only this pipeline.
    #[arg(long)]
    pipeline: Option<String>,
    /// Only transfers to this destination region.
    #[arg(long)]
    to: Option<String>,
    /// Only this object kind.
    #[arg(long)]
    object: Option<String>,
    /// Only this data subject (their token).
    #[arg(long)]
    subject: Option<String>,
    /// Only `transfer`, `block` or `delete`.
    #[arg(long)]
    decision: Option<String>,
    /// Output format (query defaults to table, export to json).
    #[arg(long, value_enum)]
    format: Option<crate::ops::AuditFormat>,
    /// At most this many entries.
    #[arg(long)]
    limit: Option<u64>,
}

impl QueryArgs {
    fn filter(&self) -> dss_store::ledger::Filter {
        dss_store::ledger::Filter {
            since: self.since.clone(),
            until: self.until.clone(),
            pipeline: self.pipeline.clone(),
            dest_region: self.to.clone(),
            object: self.object.clone(),
            subject: self.subject.clone(),
            decision: self.decision.clone(),
        }
    }
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Dry-run a pipeline's policy on sample records: what would cross, field by field.
    ///
    /// Reads canonical records as JSON Lines (docs/records.md). Writes one result per record
    /// to stdout and a summary to stderr. A line that is not a record is reported with its
    /// line number and skipped; the exit code is then 1.
    Check(CheckArgs),
    /// Show the compiled plan of a route and object kind: field, class, action, rule.
    Explain(ExplainArgs),
    /// Validate a policy set (and pipeline files), reporting every problem with file, line,
    /// column and key path.
    Validate(ValidateArgs),
    /// Run the policy unit tests written next to a policy set (`tests:` sections).
    Test(TestArgs),
}

#[derive(Debug, Args)]
struct PolicyDirArg {
    /// Policy set directory (every *.yaml in it); default: the pipeline's `policy`, else the
    /// set shipped with dss.
    #[arg(long, value_name = "DIR")]
    policies: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Pipeline file (YAML) naming source, destination, objects, purpose, legal basis.
    #[arg(long, value_name = "FILE")]
    pipeline: PathBuf,
    /// Which pipeline of the file; needed when it defines several.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Records as JSON Lines; `-` for stdin.
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    #[command(flatten)]
    policies: PolicyDirArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Exit with code 3 when any record is blocked.
    #[arg(long)]
    fail_on_block: bool,
    /// In JSON output, list every field, including business fields that pass unchanged
    /// (by default only fields the policy acted on or that hold personal data).
    #[arg(long)]
    all_fields: bool,
    /// Token key file (`<key id>:<base64 32-byte key>` per line, last is active). Without
    /// it, tokens come from a throwaway key and match nothing real.
    #[arg(long, value_name = "FILE", env = "DSS_TOKEN_KEY_FILE")]
    token_key_file: Option<PathBuf>,
    /// Colour in table output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Debug, Args)]
struct ExplainArgs {
    /// Take the route from this pipeline file.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["from", "to"])]
    pipeline: Option<PathBuf>,
    /// Which pipeline of the file.
    #[arg(long, value_name = "NAME", requires = "pipeline")]
    name: Option<String>,
    /// Origin region.
    #[arg(long, value_name = "REGION", required_unless_present = "pipeline")]
    from: Option<String>,
    /// Destination region.
    #[arg(long, value_name = "REGION", required_unless_present = "pipeline")]
    to: Option<String>,
    /// Purpose of processing (rules may match it).
    #[arg(long)]
    purpose: Option<String>,
    /// Object kind.
    #[arg(long, value_name = "KIND")]
    object: String,
    /// Jurisdictions the records already passed through (onward transfer), e.g. `--via CN`.
    #[arg(long, value_name = "CODE")]
    via: Vec<String>,
    /// Also show how a field the policy does not classify would be classified by its name,
    /// e.g. `--field home_address --field 手机`.
    #[arg(long = "field", value_name = "NAME")]
    fields: Vec<String>,
    #[command(flatten)]
    policies: PolicyDirArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Colour in table output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Debug, Args)]
struct ValidateArgs {
    #[command(flatten)]
    policies: PolicyDirArg,
    /// Pipeline files to validate against the policy set.
    #[arg(long, value_name = "FILE")]
    pipeline: Vec<PathBuf>,
}

#[derive(Debug, Args)]
struct TestArgs {
    #[command(flatten)]
    policies: PolicyDirArg,
}

#[derive(Debug, Subcommand)]
enum DevCommand {
    /// Write realistic synthetic CRM records (Chinese, German, Hong Kong people) as JSON Lines.
    Generate(GenerateArgs),
    /// Print a new random token key line for a key file.
    Key {
        /// Key id (lowercase letters and digits).
        #[arg(long, default_value = "k1")]
        id: String,
    },
    /// Create a local CA, a server certificate per region and client certificates (PEM), so
    /// that the gateways run with TLS; for development only.
    Certs {
        /// Directory to write to.
        #[arg(long, value_name = "DIR", default_value = "certs")]
        out: PathBuf,
        /// Regions to make server certificates for.
        #[arg(
            long,
            value_name = "REGION",
            value_delimiter = ',',
            default_value = "cn-beijing,eu-frankfurt,ap-hongkong"
        )]
        regions: Vec<String>,
        /// Client certificates to make (their common names name callers).
        #[arg(long, value_name = "NAME", value_delimiter = ',')]
        clients: Vec<String>,
    },
    /// Write the JSON Schemas of the YAML formats, or check the committed ones.
    Schemas {
        /// Directory to write to.
        #[arg(long, value_name = "DIR", default_value = "docs/schemas")]
        out: PathBuf,
        /// Only compare with the files in DIR; exit 1 when they differ.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Debug, Args)]
struct GenerateArgs {
    /// Region the records live in (chooses the population).
    #[arg(long, default_value = "eu-frankfurt")]
    region: String,
    /// Tenant.
    #[arg(long, default_value = "eu-sales")]
    tenant: String,
    /// Object kind.
    #[arg(long, value_enum, default_value_t = GenObject::Contact)]
    object: GenObject,
    /// Number of records.
    #[arg(long, default_value_t = 1000)]
    count: u64,
    /// Seed: the same seed gives the same records.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum GenObject {
    Contact,
    Account,
    Order,
    Product,
    /// Contacts, accounts, orders and products in turn.
    Mixed,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// A failure with its exit code.
struct Failure(u8, anyhow::Error);

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast::<ConfigError>() {
            Ok(c) => Failure(2, anyhow!(c)),
            Err(e) => Failure(1, e),
        }
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure(2, anyhow!(e))
    }
}

/// Parses the command line and runs it.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Policy(PolicyCommand::Check(a)) => check(a),
        Command::Policy(PolicyCommand::Explain(a)) => explain(a),
        Command::Policy(PolicyCommand::Validate(a)) => validate(a),
        Command::Policy(PolicyCommand::Test(a)) => test(a),
        Command::Run(a) => {
            crate::ops::run(&a.config.config, a.pipeline.as_deref()).map_err(Failure::from)
        }
        Command::Serve { config, region } => {
            crate::ops::serve(&config.config, &region).map_err(Failure::from)
        }
        Command::Audit(AuditCommand::Verify { config, region }) => {
            crate::ops::verify(&config.config, region.as_deref()).map_err(Failure::from)
        }
        Command::Audit(AuditCommand::DeadLetters {
            config,
            region,
            json,
        }) => {
            crate::ops::dead_letters(&config.config, region.as_deref(), json).map_err(Failure::from)
        }
        Command::Audit(AuditCommand::Query(q)) => audit_query(&q, crate::ops::AuditFormat::Table),
        Command::Audit(AuditCommand::Export(q)) => audit_query(&q, crate::ops::AuditFormat::Json),
        Command::Audit(AuditCommand::Report {
            config,
            since,
            until,
            json,
        }) => crate::ops::report(&config.config, since.as_deref(), until.as_deref(), json)
            .map_err(Failure::from),
        Command::Dsr(DsrCommand::Access {
            config,
            subject,
            json,
        }) => crate::ops::dsr_access(&config.config, &subject, json).map_err(Failure::from),
        Command::Dsr(DsrCommand::Erase { config, subject }) => {
            crate::ops::dsr_erase(&config.config, &subject).map_err(Failure::from)
        }
        Command::Dev(d) => dev(d),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Failure(code, e)) => {
            let _ = writeln!(std::io::stderr(), "dss: {e:#}");
            ExitCode::from(code)
        }
    }
}

fn audit_query(q: &QueryArgs, default: crate::ops::AuditFormat) -> Result<u8, Failure> {
    let format = q.format.unwrap_or(default);
    crate::ops::query(
        &q.config.config,
        q.region.as_deref(),
        q.filter(),
        format,
        q.limit,
    )
    .map_err(Failure::from)
}

fn pick<'p>(
    pipelines: &'p [Pipeline],
    name: Option<&str>,
    file: &Path,
) -> Result<&'p Pipeline, Failure> {
    let names = || {
        pipelines
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name {
        Some(n) => pipelines.iter().find(|p| p.name == n).ok_or_else(|| {
            Failure(
                2,
                anyhow!(
                    "{}: no pipeline {n:?} (expected one of: {})",
                    file.display(),
                    names()
                ),
            )
        }),
        None if pipelines.len() == 1 => Ok(&pipelines[0]),
        None => Err(Failure(
            2,
            anyhow!(
                "{} defines several pipelines; choose one with --name (one of: {})",
                file.display(),
                names()
            ),
        )),
    }
}

fn keyring(file: Option<&Path>) -> Result<(Keyring, bool), Failure> {
    match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read token key file {}", path.display()))
                .map_err(|e| Failure(2, e))?;
            let ring = Keyring::from_key_file(&text)
                .map_err(|e| Failure(2, anyhow!("{}: {e}", path.display())))?;
            Ok((ring, false))
        }
        None => {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key)
                .map_err(|e| Failure(1, anyhow!("no randomness for a throwaway key: {e}")))?;
            Ok((Keyring::new("dryrun", &key).expect("valid key id"), true))
        }
    }
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    }
}

fn check(a: CheckArgs) -> Result<u8, Failure> {
    let loaded = load_pipelines(&a.pipeline, a.policies.policies.as_deref())?;
    let pipeline = pick(&loaded.pipelines, a.name.as_deref(), &a.pipeline)?;
    let (keys, throwaway) = keyring(a.token_key_file.as_deref())?;
    let planner = Planner::new(loaded.set.clone(), pipeline.route.clone())
        .map_err(|e| Failure(2, e.into()))?;
    let scanner = Scanner::new();
    let input: Box<dyn BufRead> = if a.input.as_os_str() == "-" {
        Box::new(BufReader::with_capacity(1 << 20, std::io::stdin().lock()))
    } else {
        let f = std::fs::File::open(&a.input)
            .with_context(|| format!("cannot open input {}", a.input.display()))?;
        Box::new(BufReader::with_capacity(1 << 20, f))
    };
    let input_name = if a.input.as_os_str() == "-" {
        "stdin".to_owned()
    } else {
        a.input.display().to_string()
    };
    let mut checker = Checker::new(
        &planner,
        &keys,
        &scanner,
        &pipeline.objects,
        &pipeline.name,
        dss_core::time::now_rfc3339(),
    )
    // Tables are for people reading a few records: every field, as the policy treats it.
    .all_fields(a.all_fields || a.format == Format::Table);
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    let mut err = std::io::stderr().lock();
    checker
        .run(
            input,
            &input_name,
            a.format,
            &mut out,
            &mut err,
            use_color(a.color),
        )
        .context("writing results")?;
    drop(out);
    let s = &checker.summary;
    writeln!(
        err,
        "{}: {} -> {} under {} (policy version {})",
        pipeline.name,
        pipeline.route.from,
        pipeline.route.to,
        loaded.origin,
        loaded.set.version()
    )
    .ok();
    writeln!(err, "{}", s.describe()).ok();
    if throwaway {
        writeln!(
            err,
            "tokens come from a throwaway key (pass --token-key-file for real ones)"
        )
        .ok();
    }
    if s.errors > 0 {
        return Ok(1);
    }
    if a.fail_on_block && s.blocked > 0 {
        return Ok(3);
    }
    Ok(0)
}

fn explain(a: ExplainArgs) -> Result<u8, Failure> {
    let (set, route) = match &a.pipeline {
        Some(file) => {
            let loaded = load_pipelines(file, a.policies.policies.as_deref())?;
            let p = pick(&loaded.pipelines, a.name.as_deref(), file)?;
            (loaded.set.clone(), p.route.clone())
        }
        None => {
            let (set, _) = load_policy(a.policies.policies.as_deref())?;
            let region = |r: &Option<String>| {
                let r = r.as_deref().unwrap_or_default();
                RegionId::new(r).ok_or_else(|| Failure(2, anyhow!("invalid region id {r:?}")))
            };
            let route = RouteSpec {
                from: region(&a.from)?,
                to: region(&a.to)?,
                to_tenant: None,
                purpose: a.purpose.clone(),
                legal_basis: None,
                conditions: Vec::new(),
            };
            (set, route)
        }
    };
    let kind = ObjectKind::parse(&a.object)
        .ok_or_else(|| Failure(2, anyhow!("invalid object kind {:?}", a.object)))?;
    let planner = Planner::new(set.clone(), route).map_err(|e| Failure(2, e.into()))?;
    let mut via = Vec::new();
    for code in &a.via {
        let id = JurisdictionCode::new(code)
            .and_then(|c| set.jurisdiction_id(c.as_str()))
            .ok_or_else(|| {
                Failure(
                    2,
                    anyhow!(
                        "unknown jurisdiction {code:?} (expected one of: {})",
                        set.jurisdictions()
                            .iter()
                            .map(|j| j.code.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
        via.push(id);
    }
    let plan = planner.plan(&kind, &via);
    let mut out = std::io::stdout().lock();
    let result = match a.format {
        Format::Json => crate::render::explain_json(&set, &planner, &plan, &a.fields, &mut out),
        Format::Table => crate::render::explain_table(
            &set,
            &planner,
            &plan,
            &a.fields,
            &mut out,
            use_color(ColorChoice::Auto),
        ),
    };
    result.context("writing the plan")?;
    Ok(0)
}

fn validate(a: ValidateArgs) -> Result<u8, Failure> {
    let (set, origin) = load_policy(a.policies.policies.as_deref())?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{origin}: ok — {} levels, {} jurisdictions, {} regions, {} rules, {} tests; policy version {}",
        set.jurisdictions().iter().map(|j| j.level).collect::<std::collections::BTreeSet<_>>().len(),
        set.jurisdictions().len(),
        set.region_ids().count(),
        set.rules().len(),
        set.tests().len(),
        set.version()
    )
    .ok();
    for p in &a.pipeline {
        let loaded = load_pipelines(p, a.policies.policies.as_deref())?;
        let names: Vec<&str> = loaded.pipelines.iter().map(|p| p.name.as_str()).collect();
        writeln!(out, "{}: ok — pipelines {}", p.display(), names.join(", ")).ok();
    }
    Ok(0)
}

fn test(a: TestArgs) -> Result<u8, Failure> {
    let (set, origin) = load_policy(a.policies.policies.as_deref())?;
    let results = dss_policies::testing::run_tests(&set);
    let mut out = std::io::stdout().lock();
    let failed = results.iter().filter(|r| !r.passed()).count();
    for r in &results {
        let verdict = if r.passed() { "ok  " } else { "FAIL" };
        writeln!(out, "{verdict} {} {}", r.location, r.name).ok();
        for f in &r.failures {
            writeln!(out, "     {f}").ok();
        }
    }
    writeln!(
        out,
        "{origin}: {} tests, {} passed, {failed} failed",
        results.len(),
        results.len() - failed
    )
    .ok();
    if results.is_empty() {
        writeln!(out, "no tests: add a `tests:` section to a policy file").ok();
    }
    Ok(u8::from(failed > 0))
}

fn dev(d: DevCommand) -> Result<u8, Failure> {
    match d {
        DevCommand::Generate(a) => generate(a),
        DevCommand::Key { id } => {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| Failure(1, anyhow!("no randomness: {e}")))?;
            Keyring::new(&id, &key).map_err(|e| Failure(2, e.into()))?;
            println!(
                "{id}:{}",
                base64::engine::general_purpose::STANDARD.encode(key)
            );
            Ok(0)
        }
        DevCommand::Certs {
            out,
            regions,
            clients,
        } => {
            for f in crate::certs::write(&out, &regions, &clients)? {
                println!("wrote {f}");
            }
            Ok(0)
        }
        DevCommand::Schemas { out, check } => {
            let mut stale = Vec::new();
            for (name, text) in crate::schemas::all() {
                let path = out.join(name);
                if check {
                    if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                        stale.push(path.display().to_string());
                    }
                } else {
                    std::fs::create_dir_all(&out)
                        .with_context(|| format!("cannot create {}", out.display()))?;
                    std::fs::write(&path, text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    println!("wrote {}", path.display());
                }
            }
            if !stale.is_empty() {
                return Err(Failure(
                    1,
                    anyhow!(
                        "stale JSON Schemas (run `dss dev schemas`): {}",
                        stale.join(", ")
                    ),
                ));
            }
            Ok(0)
        }
    }
}

fn generate(a: GenerateArgs) -> Result<u8, Failure> {
    let region = RegionId::new(&a.region)
        .ok_or_else(|| Failure(2, anyhow!("invalid region id {:?}", a.region)))?;
    let mut g = dss_core::synth::Generator::new(a.seed, &a.tenant, region);
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    for i in 0..a.count {
        let record = match a.object {
            GenObject::Contact => g.contact(),
            GenObject::Account => g.account(),
            GenObject::Order => g.order(),
            GenObject::Product => g.product(),
            GenObject::Mixed => match i % 4 {
                0 => g.contact(),
                1 => g.account(),
                2 => g.order(),
                _ => g.product(),
            },
        };
        serde_json::to_writer(&mut out, &record).context("writing records")?;
        out.write_all(b"\n").context("writing records")?;
    }
    out.flush().context("writing records")?;
    Ok(0)
}
