//! Seeding demo tenants with deterministic synthetic CRM data.

use dss_core::RegionId;
use dss_core::synth::Generator;
use dss_store::{Store, StoreError};

use crate::config::SeedConfig;

/// Writes the seeded records of `tenant` into `store`; returns how many. Resumable: each
/// batch commits with a progress checkpoint, and a restart regenerates (deterministically) and
/// skips what is already written.
pub async fn seed_tenant(
    store: &Store,
    tenant: &str,
    region: &str,
    seed: &SeedConfig,
) -> Result<u64, StoreError> {
    let region = RegionId::new(region).expect("configured regions are valid ids");
    let mut g = Generator::new(seed.seed, tenant, region);
    let progress = format!("seed-progress:{tenant}");
    let done: u64 = store
        .checkpoint(&progress)
        .await?
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let mut n = 0u64;
    let plan = [
        (seed.accounts, 0u8),
        (seed.contacts, 1),
        (seed.orders, 2),
        (seed.products, 3),
    ];
    for (count, kind) in plan {
        let mut left = count;
        while left > 0 {
            let batch = left.min(2000);
            let records: Vec<_> = (0..batch)
                .map(|_| {
                    let r = match kind {
                        0 => g.account(),
                        1 => g.contact(),
                        2 => g.order(),
                        _ => g.product(),
                    };
                    let subject = r.subject.as_ref().and_then(|s| s.id.clone());
                    (r, subject)
                })
                .collect();
            left -= batch;
            n += u64::from(batch);
            if n <= done {
                continue;
            }
            let mut tx = store.begin().await?;
            tx.upsert_records(&records).await?;
            tx.set_checkpoint(&progress, &n.to_string()).await?;
            tx.commit().await?;
        }
    }
    Ok(n)
}
