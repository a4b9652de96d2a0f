//! A vault in a file: one JSON line per entry, replayed into memory on open.
//!
//! The file holds only sealed values (AES-256-GCM ciphertext made by the tokenizer) and
//! keyed tokens, never a plaintext. Writes append one line and flush it before `put` returns.
//! Shredding a subject rewrites the file without their entries (to a temporary file that is
//! synced and then renamed over the old one), so the ciphertext is gone from the live file,
//! not merely marked deleted. A torn last line — a crash in the middle of an append — was
//! never acknowledged and is dropped on open; any other unreadable line is an error.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dss_core::vault::{SealedValue, Vault, VaultEntry, VaultError};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Line {
    token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    key_id: String,
    nonce: String,
    ciphertext: String,
}

impl Line {
    fn from_entry(e: &VaultEntry) -> Self {
        Self {
            token: e.token.clone(),
            subject: e.subject.clone(),
            key_id: e.sealed.key_id.clone(),
            nonce: STANDARD.encode(e.sealed.nonce),
            ciphertext: STANDARD.encode(&e.sealed.ciphertext),
        }
    }

    fn into_entry(self) -> Result<VaultEntry, String> {
        let nonce: [u8; 12] = STANDARD
            .decode(&self.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or("bad nonce")?;
        let ciphertext = STANDARD
            .decode(&self.ciphertext)
            .map_err(|_| "bad ciphertext")?;
        Ok(VaultEntry {
            token: self.token,
            subject: self.subject,
            sealed: SealedValue {
                key_id: self.key_id,
                nonce,
                ciphertext,
            },
        })
    }
}

struct Inner {
    entries: HashMap<String, VaultEntry>,
    file: File,
}

/// A file-backed vault.
pub struct FileVault {
    path: PathBuf,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for FileVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileVault({})", self.path.display())
    }
}

fn corrupt(path: &Path, line: usize, why: impl std::fmt::Display) -> VaultError {
    VaultError::Corrupt(format!("{}:{line}: {why}", path.display()))
}

impl FileVault {
    /// Opens (or creates) the vault file at `path`.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, VaultError> {
        let path = path.into();
        let mut entries = HashMap::new();
        let mut keep_len: u64 = 0;
        if path.exists() {
            let mut reader = BufReader::new(File::open(&path)?);
            let mut buf = String::new();
            let mut n = 0;
            loop {
                buf.clear();
                let read = reader.read_line(&mut buf)?;
                if read == 0 {
                    break;
                }
                n += 1;
                if !buf.ends_with('\n') {
                    // A torn append: never acknowledged, dropped below.
                    break;
                }
                let line: Line = serde_json::from_str(&buf).map_err(|e| {
                    corrupt(
                        &path,
                        n,
                        format!("unreadable entry at column {}", e.column()),
                    )
                })?;
                let entry = line.into_entry().map_err(|e| corrupt(&path, n, e))?;
                entries.insert(entry.token.clone(), entry);
                keep_len += read as u64;
            }
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        if file.metadata()?.len() != keep_len {
            file.set_len(keep_len)?;
        }
        Ok(Self {
            path,
            inner: Mutex::new(Inner { entries, file }),
        })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.entries.len()).unwrap_or(0)
    }

    /// True when the vault holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, VaultError> {
        self.inner
            .lock()
            .map_err(|_| VaultError::Corrupt("vault lock poisoned".into()))
    }
}

impl Vault for FileVault {
    fn put(&self, entry: VaultEntry) -> Result<(), VaultError> {
        let mut inner = self.lock()?;
        if inner.entries.contains_key(&entry.token) {
            return Ok(());
        }
        let mut line = serde_json::to_vec(&Line::from_entry(&entry))
            .map_err(|e| VaultError::Corrupt(e.to_string()))?;
        line.push(b'\n');
        inner.file.write_all(&line)?;
        inner.file.flush()?;
        inner.entries.insert(entry.token.clone(), entry);
        Ok(())
    }

    fn get(&self, token: &str) -> Result<Option<SealedValue>, VaultError> {
        Ok(self.lock()?.entries.get(token).map(|e| e.sealed.clone()))
    }

    fn shred_subject(&self, subject: &str) -> Result<usize, VaultError> {
        let mut inner = self.lock()?;
        let before = inner.entries.len();
        inner
            .entries
            .retain(|_, e| e.subject.as_deref() != Some(subject));
        let shredded = before - inner.entries.len();
        if shredded == 0 {
            return Ok(0);
        }
        let tmp = self.path.with_extension("shred-tmp");
        {
            let mut out = std::io::BufWriter::new(File::create(&tmp)?);
            for e in inner.entries.values() {
                serde_json::to_writer(&mut out, &Line::from_entry(e))
                    .map_err(|e| VaultError::Corrupt(e.to_string()))?;
                out.write_all(b"\n")?;
            }
            out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        inner.file = OpenOptions::new().append(true).open(&self.path)?;
        inner.file.sync_all()?;
        Ok(shredded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dss_policies::Keyring;

    fn entry(keys: &Keyring, value: &str, subject: &str) -> VaultEntry {
        let token = keys.tokenize("crm", value);
        VaultEntry {
            sealed: keys.seal(&token, value).unwrap(),
            token,
            subject: Some(subject.into()),
        }
    }

    #[test]
    fn entries_survive_a_reopen_and_hold_no_plaintext() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cn-beijing.vault");
        let keys = Keyring::new("k1", &[4; 32]).unwrap();
        let e = entry(&keys, "王晓东", "s1");
        {
            let v = FileVault::open(&path).unwrap();
            v.put(e.clone()).unwrap();
            v.put(e.clone()).unwrap();
        }
        let v = FileVault::open(&path).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(
            keys.detokenize(&v, &e.token).unwrap().as_deref(),
            Some("王晓东")
        );
        let bytes = std::fs::read_to_string(&path).unwrap();
        assert!(!bytes.contains("王晓东"));
    }

    #[test]
    fn shredding_removes_the_ciphertext_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        let keys = Keyring::new("k1", &[4; 32]).unwrap();
        let v = FileVault::open(&path).unwrap();
        let gone = entry(&keys, "Anna Schneider", "s1");
        let kept = entry(&keys, "Lukas Weber", "s2");
        v.put(gone.clone()).unwrap();
        v.put(kept.clone()).unwrap();
        assert_eq!(v.shred_subject("s1").unwrap(), 1);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(&STANDARD.encode(&gone.sealed.ciphertext)));
        assert!(!text.contains(&gone.token));
        drop(v);
        let v = FileVault::open(&path).unwrap();
        assert_eq!(keys.detokenize(&v, &gone.token).unwrap(), None);
        assert_eq!(
            keys.detokenize(&v, &kept.token).unwrap().as_deref(),
            Some("Lukas Weber")
        );
        v.put(entry(&keys, "Marie Becker", "s3")).unwrap();
        assert_eq!(
            FileVault::open(&path).unwrap().len(),
            2,
            "appends after a shred land in the new file"
        );
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_a_corrupt_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        let keys = Keyring::new("k1", &[4; 32]).unwrap();
        FileVault::open(&path)
            .unwrap()
            .put(entry(&keys, "a", "s"))
            .unwrap();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"token\":\"tok_k1_").unwrap();
        drop(f);
        let v = FileVault::open(&path).unwrap();
        assert_eq!(v.len(), 1);
        v.put(entry(&keys, "b", "s")).unwrap();
        assert_eq!(FileVault::open(&path).unwrap().len(), 2);
        std::fs::write(&path, "not json\n").unwrap();
        let err = FileVault::open(&path).unwrap_err().to_string();
        assert!(err.contains(":1: unreadable entry"), "{err}");
    }
}
