//! `dss run` with the `file` connector: CSV and JSON Lines in and out, dead letters, the
//! `on_dead_letter`, `rate_limit` and `schedule` settings.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::policy::{dss, text};

const HEADER: &str =
    "id,subject.id,subject.country,subject.consent,name,email,phone,address.city\n";

fn row(n: u32) -> String {
    format!(
        "con-{n},subj-{n},DE,granted,Anna Schneider{n},anna{n}@beispiel.de,+49 30 1234{n:04},Berlin\n"
    )
}

/// A deployment whose one pipeline reads `in.csv` in Frankfurt and writes `out.jsonl` in
/// Beijing; `extra` is appended to the pipeline's settings.
fn deployment(rows: &str, extra: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.csv"), format!("{HEADER}{rows}")).unwrap();
    let config = format!(
        r#"
version: 1
data_dir: data
regions: {{ eu-frankfurt: {{}} }}
pipelines:
  csv-to-hq:
    source: {{ connector: file, region: eu-frankfurt, tenant: eu-sales, path: in.csv }}
    destination: {{ connector: file, region: cn-beijing, tenant: cn-hq, path: out.jsonl }}
    objects: [contact]
    purpose: crm_sync
    legal_basis: contract
    conditions: [standard_contract]
{extra}"#
    );
    let path = dir.path().join("dss.yaml");
    std::fs::write(&path, config).unwrap();
    (dir, path.display().to_string())
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_csv_file_crosses_transformed_into_json_lines_and_a_rerun_reads_only_new_rows() {
    let bad = "con-9,subj-9,DE,granted,Karl Bad,karl@beispiel.de\n"; // two columns short
    let (dir, config) = deployment(&format!("{}{}{bad}", row(1), row(2)), "");
    let out = dss(&["run", "--config", &config]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let written = lines(&dir.path().join("out.jsonl"));
    assert_eq!(written.len(), 2, "{written:?}");
    let all = written.join("\n");
    for raw in ["Anna Schneider1", "anna1@beispiel.de", "subj-1", "1234000"] {
        assert!(!all.contains(raw), "{raw} crossed raw: {all}");
    }
    let first: serde_json::Value = serde_json::from_str(&written[0]).unwrap();
    assert_eq!(first["region"], "cn-beijing");
    assert_eq!(first["tenant"], "cn-hq");
    assert_eq!(first["provenance"][0], "DE");
    assert!(
        first["fields"]["name"]
            .as_str()
            .unwrap()
            .starts_with("tok_")
    );
    assert_eq!(first["fields"]["email"], "a***@beispiel.de");
    assert_eq!(first["fields"]["address"]["city"], "Berlin");

    // The short row is a dead letter with file, line and reason, and no value of it.
    let listed = dss(&["audit", "dead-letters", "--config", &config]);
    assert_eq!(listed.status.code(), Some(0), "{}", text(&listed.stderr));
    let listed = text(&listed.stdout);
    assert!(
        listed.contains("in.csv:3: the row has 6 columns, the header 8"),
        "{listed}"
    );
    assert!(!listed.contains("Karl"), "{listed}");

    // A row appended later is read by the next run, and nothing is written twice.
    let mut csv = std::fs::read_to_string(dir.path().join("in.csv")).unwrap();
    csv.push_str(&row(3));
    std::fs::write(dir.path().join("in.csv"), csv).unwrap();
    let out = dss(&["run", "--config", &config]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let written = lines(&dir.path().join("out.jsonl"));
    assert_eq!(written.len(), 3, "{written:?}");
    assert!(written[2].contains("\"id\":\"con-3\""), "{}", written[2]);
}

#[test]
fn a_crm_tenant_exports_to_a_csv_file_with_the_configured_columns() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("dss.yaml");
    std::fs::write(
        &config,
        r#"
version: 1
data_dir: data
regions: { eu-frankfurt: {} }
tenants:
  eu-sales: { region: eu-frankfurt, seed: { contacts: 30, seed: 2 } }
pipelines:
  to-hk-csv:
    source: { connector: crm, region: eu-frankfurt, tenant: eu-sales }
    destination: { connector: file, region: ap-hongkong, tenant: hk-sales, path: export/contacts.csv, columns: [id, name, email, subject.id, addresses] }
    objects: [contact]
    purpose: crm_sync
    legal_basis: contract
    conditions: [standard_contract]
"#,
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("export")).unwrap();
    let config = config.display().to_string();
    let out = dss(&["run", "--config", &config]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let sent: usize = text(&out.stdout)
        .lines()
        .find(|l| l.starts_with("to-hk-csv"))
        .and_then(|l| l.split_whitespace().nth(4))
        .and_then(|n| n.parse().ok())
        .unwrap();
    let mut reader = csv::Reader::from_path(dir.path().join("export/contacts.csv")).unwrap();
    assert_eq!(
        reader.headers().unwrap(),
        vec!["op", "id", "name", "email", "subject.id", "addresses"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(sent > 20, "most contacts have consent: {sent}");
    assert_eq!(rows.len(), sent);
    for r in &rows {
        assert_eq!(&r[0], "upsert");
        assert!(r[2].starts_with("tok_"), "name tokenized: {}", &r[2]);
        assert!(r[3].contains("***@"), "e-mail masked: {}", &r[3]);
        assert!(r[4].starts_with("tok_"), "subject tokenized: {}", &r[4]);
        assert!(r[5].starts_with('['), "nested values as JSON: {}", &r[5]);
    }
}

#[test]
fn on_dead_letter_stop_keeps_the_dead_letter_and_fails_the_run() {
    let bad = "con-9,subj-9\n";
    let (dir, config) = deployment(
        &format!("{}{bad}{}", row(1), row(2)),
        "    on_dead_letter: stop\n",
    );
    let out = dss(&["run", "--config", &config]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("csv-to-hq: stopped after 1 dead letter(s), the first: in.csv:2:"),
        "{err}"
    );
    // The batch with the dead letter committed: what was good in it was delivered.
    assert_eq!(lines(&dir.path().join("out.jsonl")).len(), 2);
}

#[test]
fn a_rate_limit_holds_the_pipeline_to_its_rate() {
    let rows: String = (1..=60).map(row).collect();
    let (dir, config) = deployment(
        &rows,
        "    rate_limit: { records_per_second: 100, burst: 1 }\n",
    );
    let started = Instant::now();
    let out = dss(&["run", "--config", &config]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(lines(&dir.path().join("out.jsonl")).len(), 60);
    // 60 records at 100/s after a burst of one take at least 0.59 s; only the lower bound is
    // checked (a busy machine may take longer, never shorter).
    assert!(took >= Duration::from_millis(590), "{took:?}");
}

#[test]
fn a_continuous_pipeline_follows_its_source_until_sigterm() {
    runs_on_its_schedule_until_sigterm("{ type: continuous }");
}

#[test]
fn a_pipeline_every_interval_picks_up_new_rows_until_sigterm() {
    runs_on_its_schedule_until_sigterm("{ type: every, interval_ms: 300 }");
}

/// Starts `dss run` on a pipeline with `schedule`, appends a row once the first is through,
/// waits for it to arrive, then stops the run with SIGTERM.
fn runs_on_its_schedule_until_sigterm(schedule: &str) {
    let (dir, config) = deployment(&row(1), &format!("    schedule: {schedule}\n"));
    let child = Command::new(env!("CARGO_BIN_EXE_dss"))
        .args(["run", "--config", &config])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = dir.path().join("out.jsonl");
    let wait_for = |n: usize| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while lines(&out).len() < n {
            assert!(
                Instant::now() < deadline,
                "{} of {n} lines",
                lines(&out).len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait_for(1);
    let mut csv = std::fs::read_to_string(dir.path().join("in.csv")).unwrap();
    csv.push_str(&row(2));
    std::fs::write(dir.path().join("in.csv"), csv).unwrap();
    wait_for(2);
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let summary = stdout.lines().find(|l| l.starts_with("csv-to-hq")).unwrap();
    assert_eq!(summary.split_whitespace().nth(4), Some("2"), "{stdout}");
    assert_eq!(lines(&out).len(), 2);
}

#[test]
fn a_failing_destination_is_retried_with_backoff_until_it_recovers() {
    // The destination's directory does not exist yet: every delivery fails until it does.
    let (dir, config) = deployment(
        &format!("{}{}", row(1), row(2)),
        "    retry: { max_attempts: 200, initial_backoff_ms: 20, max_backoff_ms: 50 }\n",
    );
    let moved = std::fs::read_to_string(&config)
        .unwrap()
        .replace("path: out.jsonl", "path: later/out.jsonl");
    std::fs::write(&config, moved).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_dss"))
        .args(["run", "--config", &config])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    std::fs::create_dir(dir.path().join("later")).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("csv-to-hq: ") && stderr.contains("; retry 1 in "),
        "{stderr}"
    );
    // Nothing lost, nothing twice: the batch committed once and was delivered once.
    assert_eq!(lines(&dir.path().join("later/out.jsonl")).len(), 2);
    let summary = text(&output.stdout);
    let row = summary
        .lines()
        .find(|l| l.starts_with("csv-to-hq"))
        .unwrap();
    assert_eq!(row.split_whitespace().nth(4), Some("2"), "{summary}");
}

/// Records a JSON Lines file holds in another region, or with a country code that is none,
/// become dead letters whose reasons name the key path, never the value written there.
#[test]
fn dead_letters_of_bad_metadata_name_the_key_path_and_never_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let record = |id: &str, region: &str, country: &str| {
        format!(
            r#"{{"id":"{id}","object":"contact","tenant":"eu-sales","region":"{region}","subject":{{"id":"s-{id}","country":"{country}","consent":"granted"}},"fields":{{"name":"Anna"}}}}"#
        )
    };
    let rows = [
        record("c-1", "ap-13812345678", "DE"),
        record("c-2", "eu-frankfurt", "Tel 030 1234567"),
        record("c-3", "eu-frankfurt", "DE"),
    ];
    std::fs::write(dir.path().join("in.jsonl"), rows.join("\n") + "\n").unwrap();
    let config = r#"
version: 1
data_dir: data
regions: { eu-frankfurt: {} }
pipelines:
  jsonl-to-hq:
    source: { connector: file, region: eu-frankfurt, tenant: eu-sales, path: in.jsonl }
    destination: { connector: file, region: cn-beijing, tenant: cn-hq, path: out.jsonl }
    objects: [contact]
    purpose: crm_sync
    legal_basis: contract
    conditions: [standard_contract]
"#;
    let path = dir.path().join("dss.yaml");
    std::fs::write(&path, config).unwrap();
    let config = path.display().to_string();
    let out = dss(&["run", "--config", &config]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(lines(&dir.path().join("out.jsonl")).len(), 1);
    let listed = dss(&["audit", "dead-letters", "--config", &config]);
    assert_eq!(listed.status.code(), Some(0), "{}", text(&listed.stderr));
    let shown = format!(
        "{}{}{}",
        text(&listed.stdout),
        text(&out.stderr),
        text(&out.stdout)
    );
    assert!(
        shown.contains("region: not the pipeline's source region eu-frankfurt"),
        "{shown}"
    );
    assert!(shown.contains("subject.country"), "{shown}");
    for raw in ["13812345678", "030 1234567", "0301234567"] {
        assert!(!shown.contains(raw), "{raw} shown: {shown}");
    }
}
