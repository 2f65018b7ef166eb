//! Every migration runs up and down on SQLite, and up again after down.

use koers_engine::store::{StoreConfig, connect};
use koers_migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

async fn tables(db: &DatabaseConnection) -> Vec<String> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'seaql_migrations' ORDER BY name",
        ))
        .await
        .expect("list tables");
    rows.iter().map(|r| r.try_get::<String>("", "name").expect("name")).collect()
}

#[tokio::test]
async fn migrations_go_up_and_down() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
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
