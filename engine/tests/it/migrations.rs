//! Every migration runs up and down, and up again after down.

use koers_engine::store::{StoreConfig, connect};
use koers_migrations::{Migrator, MigratorTrait};
use sea_orm::DatabaseConnection;

async fn tables(db: &DatabaseConnection) -> Vec<String> {
    let mut tables = koers_testing::tables(db).await;
    tables.retain(|t| t != "seaql_migrations");
    tables
}

#[tokio::test]
async fn migrations_go_up_and_down() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = koers_testing::database_url(dir.path(), "m.db").await;
    let db = connect(&StoreConfig::new(url)).await.expect("connect");
    assert!(tables(&db).await.is_empty());

    Migrator::up(&db, None).await.expect("up");
    let created = tables(&db).await;
    for table in [
        "bestuur",
        "kindcentrum",
        "koersplan",
        "ambitie",
        "doel",
        "succescriterium",
        "planning_item",
        "indicator",
        "measurement",
    ] {
        assert!(created.iter().any(|t| t == table), "{table} missing in {created:?}");
    }
    assert!(Migrator::get_pending_migrations(&db).await.expect("pending").is_empty());

    Migrator::down(&db, None).await.expect("down");
    assert!(tables(&db).await.is_empty(), "down leaves {:?}", tables(&db).await);

    Migrator::up(&db, None).await.expect("up again");
    assert_eq!(tables(&db).await, created);
}
