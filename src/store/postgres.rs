//! PostgreSQL: production and scale-out. Native uuid, timestamptz, boolean and jsonb columns; rows are locked
//! with `FOR UPDATE` where a read decides a write.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};

pub type Db = sqlx::Postgres;
pub type Pool = sqlx::PgPool;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

macro_rules! for_update {
    () => {
        " FOR UPDATE"
    };
}

// The aggregate that gathers a column into a JSON array (an ordered one with `ORDER BY` inside its call).
macro_rules! json_array_agg {
    () => {
        "json_agg"
    };
}

// Several runners claim outbox rows at once: each skips the rows another is claiming instead of waiting.
macro_rules! skip_locked {
    () => {
        " FOR UPDATE SKIP LOCKED"
    };
}

async fn begin(pool: &Pool) -> sqlx::Result<sqlx::Transaction<'static, Db>> {
    pool.begin().await
}

impl Repo {
    pub async fn open(options: PgConnectOptions, max_connections: u32) -> anyhow::Result<Repo> {
        // Migrate on a connection of its own and close it: a failed migration must not leave the migration
        // lock held on a pooled connection.
        let mut conn = options.connect().await?;
        let migrated = MIGRATOR.run(&mut conn).await;
        conn.close().await?;
        migrated?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Repo {
            writer: pool.clone(),
            pool,
        })
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
