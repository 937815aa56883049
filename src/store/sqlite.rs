//! SQLite: the embedded default. WAL, foreign keys on, a busy timeout, and write transactions that take the
//! write lock up front (`BEGIN IMMEDIATE`) so that two writers never deadlock upgrading a read lock.

use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection};

pub type Db = sqlx::Sqlite;
pub type Pool = sqlx::SqlitePool;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

macro_rules! for_update {
    () => {
        ""
    };
}

// The aggregate that gathers a column into a JSON array (an ordered one with `ORDER BY` inside its call).
macro_rules! json_array_agg {
    () => {
        "json_group_array"
    };
}

// BEGIN IMMEDIATE already serialises writers, so a claim needs no row lock.
macro_rules! skip_locked {
    () => {
        ""
    };
}

async fn begin(pool: &Pool) -> sqlx::Result<sqlx::Transaction<'static, Db>> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

impl Repo {
    pub async fn open(options: SqliteConnectOptions, max_connections: u32) -> anyhow::Result<Repo> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let mut conn = options.connect().await?;
        MIGRATOR.run(&mut conn).await?;
        conn.close().await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .connect_with(options.clone())
            .await?;
        // One writer: SQLite lets one transaction write at a time, and writers that meet on `BEGIN IMMEDIATE`
        // wait in its busy handler, which sleeps and wakes in no order (seconds of tail under a burst). Write
        // transactions take this pool's single connection instead, so a burst queues in order on the pool
        // while reads keep the other connections. `BEGIN IMMEDIATE` stays for other processes on the file.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        Ok(Repo { pool, writer })
    }
}

include!("common.rs");

mod registry_impl {
    use super::*;
    include!("registry.rs");
}

mod audit_impl {
    use super::*;
    include!("audit.rs");
}

mod requests_impl {
    use super::*;
    include!("requests/loaders.rs");
    include!("requests/plans.rs");
    include!("requests/commands.rs");
    include!("requests/reviews.rs");
}

mod sessions_impl {
    use super::*;
    include!("sessions.rs");
}

mod catalog_impl {
    use super::*;
    include!("catalog.rs");
}

mod profiles_impl {
    use super::*;
    include!("profiles.rs");
}

mod products_impl {
    use super::*;
    include!("products.rs");
}

mod questionnaires_impl {
    use super::*;
    include!("questionnaires.rs");
    include!("assessments.rs");
}

mod contracts_impl {
    use super::*;
    include!("contracts.rs");
}

mod jobs_impl {
    use super::*;
    include!("jobs.rs");
}

mod events_impl {
    use super::*;
    include!("events.rs");
}

mod budgets_impl {
    use super::*;
    include!("budgets.rs");
}

mod surveillance_impl {
    use super::*;
    include!("surveillance.rs");
}

mod incidents_impl {
    use super::*;
    include!("incidents.rs");
}

mod orders_impl {
    use super::*;
    include!("orders.rs");
}
