//! Seeding demo tenants with deterministic synthetic CRM data.

use dss_core::RegionId;
use dss_core::synth::Generator;
use dss_store::{Store, StoreError};

use crate::config::SeedConfig;

/// Writes the seeded records of `tenant` into `store`; returns how many.
pub async fn seed_tenant(
    store: &Store,
    tenant: &str,
    region: &str,
    seed: &SeedConfig,
) -> Result<u64, StoreError> {
    let region = RegionId::new(region).expect("configured regions are valid ids");
    let mut g = Generator::new(seed.seed, tenant, region);
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
            let mut tx = store.begin().await?;
            tx.upsert_records(&records).await?;
            tx.commit().await?;
            left -= batch;
            n += u64::from(batch);
        }
    }
    Ok(n)
}
