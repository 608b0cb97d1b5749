//! `strata-migrations`: SeaORM's migration CLI over Strata's schema (reads `DATABASE_URL`).

use sea_orm_migration::prelude::*;

#[tokio::main]
async fn main() {
    cli::run_cli(migrations::Migrator).await;
}
