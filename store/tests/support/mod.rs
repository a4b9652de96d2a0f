//! Runs each test of the suite against a fresh SQLite file and a fresh PostgreSQL database.

use dss_store::Store;
use sqlx::Connection as _;

/// The PostgreSQL server to test against, if any.
pub(crate) fn postgres_url() -> Option<String> {
    std::env::var("DSS_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A throwaway PostgreSQL database.
pub(crate) struct PgDb {
    admin: String,
    name: String,
    pub(crate) url: String,
}

impl PgDb {
    pub(crate) async fn create(admin: &str) -> Self {
        let name = format!("dss_t_{:016x}", fastrand_u64());
        let mut conn = sqlx::PgConnection::connect(admin)
            .await
            .expect("connect to DSS_TEST_POSTGRES_URL");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.ok();
        let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
        PgDb {
            admin: admin.to_owned(),
            url: format!("{base}/{name}"),
            name,
        }
    }

    pub(crate) async fn drop(self) {
        let mut conn = sqlx::PgConnection::connect(&self.admin).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut conn)
        .await
        .unwrap();
    }
}

fn fastrand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

/// Opens a store on a fresh SQLite file in `dir`, twice (the second open re-runs migrations
/// on an existing database).
pub(crate) async fn sqlite(dir: &std::path::Path) -> Store {
    let url = format!("sqlite://{}", dir.join("region.db").display());
    Store::open(&url).await.unwrap().close().await;
    Store::open(&url).await.unwrap()
}

#[macro_export]
macro_rules! store_suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = super::support::sqlite(dir.path()).await;
                    super::$name(store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(admin) = super::support::postgres_url() else {
                        eprintln!("skipped: DSS_TEST_POSTGRES_URL is not set");
                        return;
                    };
                    let db = super::support::PgDb::create(&admin).await;
                    let store = dss_store::Store::open(&db.url).await.unwrap();
                    super::$name(store.clone()).await;
                    store.close().await;
                    db.drop().await;
                }
            )*
        }
    };
}
